/** Every error the engine reports to callers; the API maps `code` to a tRPC code in one place. */
export const errorCodes = [
  "UNKNOWN_JOB_TYPE",
  "INVALID_INPUT",
  "INPUT_TOO_LARGE",
  "NOT_FOUND",
  "INVALID_STATE",
  "IDEMPOTENCY_CONFLICT",
  "QUEUE_UNAVAILABLE",
  "DATABASE_UNAVAILABLE",
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** Field path (dot-joined, "" for the root) -> messages, for showing next to form fields. */
export type FieldErrors = Record<string, string[]>;

export class AgentEngineError extends Error {
  readonly code: ErrorCode;
  readonly fieldErrors: FieldErrors | undefined;
  /** The job concerned, when one exists (e.g. a row saved before its enqueue failed). */
  readonly jobId: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { fieldErrors?: FieldErrors; jobId?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = "AgentEngineError";
    this.code = code;
    this.fieldErrors = opts.fieldErrors;
    this.jobId = opts.jobId;
  }
}

export function isAgentEngineError(err: unknown): err is AgentEngineError {
  return err instanceof AgentEngineError;
}
