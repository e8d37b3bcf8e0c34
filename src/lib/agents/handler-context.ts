export const logLevels = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof logLevels)[number];

/** One entry of AgentJob.logs. */
export type JobLogEntry = {
  at: string;
  level: LogLevel;
  message: string;
  attempt?: number;
  data?: unknown;
};

/** What a handler gets besides its input. */
export type HandlerContext = {
  jobId: string;
  /** 1 on the first run, 2 on the first retry, ... */
  attempt: number;
  /**
   * Appends to the job's logs. Safe to call without awaiting: the engine waits for every
   * pending write before it records the job's outcome.
   */
  log: (level: LogLevel, message: string, data?: unknown) => Promise<void>;
  /** Records progress 0..100 (clamped, rounded). Same awaiting rule as log. */
  progress: (percent: number) => Promise<void>;
  /** Fires on timeout, cancellation and worker shutdown; long handlers should check it. */
  signal: AbortSignal;
};

/**
 * Thrown by a handler when retrying cannot help (the input is wrong, not the world):
 * the job fails at once instead of using its remaining attempts.
 */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentJobError";
  }
}
