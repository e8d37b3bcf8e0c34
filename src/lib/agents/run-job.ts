import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import { withDbRetry } from "../db-retry.ts";
import type { Db } from "../db.ts";
import { isAgentEngineError } from "../errors.ts";
import { PermanentJobError, type HandlerContext, type LogLevel } from "./handler-context.ts";
import { jobTypes, type JobHandlers } from "./job-types.ts";
import {
  appendJobLogs,
  jobSummarySelect,
  logEntry,
  setJobProgress,
  updateJobStatus,
  updateJobStatusSelecting,
  zodFieldErrors,
} from "./state-manager.ts";

export type RunJobDeps = {
  db: Db;
  handlers: JobHandlers;
  /** Called after a log append or progress write is stored, so live views can be told. */
  onChange?: (jobId: string, what: "log" | "progress", progress?: number) => void;
  /** Aborts every running handler when the worker shuts down. */
  shutdownSignal?: AbortSignal;
  /** How often a running job checks its row for a cancel request. Default 1000 ms. */
  cancelPollMs?: number;
  /** Overrides the job type's timeout (tests). */
  timeoutMs?: number;
  workerName?: string;
  /** How long status writes keep retrying while PostgreSQL is unreachable. Default 60 s. */
  dbRetryMs?: number;
};

/** Why a handler's signal fired; the message becomes the job's error. */
class AbortReason extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly shutdown = false,
  ) {
    super(message);
    this.name = "AbortReason";
  }
}

/**
 * Runs one delivery of an AgentJob: RUNNING -> handler -> COMPLETED, or PENDING (retry will
 * follow) / FAILED. Every path writes the row before BullMQ hears the outcome, so an event
 * about the job never gets ahead of the database.
 */
export async function runAgentJob(job: Job, token: string | undefined, deps: RunJobDeps): Promise<{ status: string }> {
  const id = job.id;
  const type = job.name;
  if (!id || !Object.hasOwn(jobTypes, type)) {
    return { status: "skipped" };
  }
  const def = jobTypes[type as keyof typeof jobTypes];
  const retrying = <T>(write: () => Promise<T>) =>
    withDbRetry(write, {
      maxWaitMs: deps.dbRetryMs,
      onRetry: (err, n) => {
        if (n === 1) console.error(`[agent-worker] job ${id}: database unavailable (${err.message}); retrying`);
      },
    });
  const maxAttempts = job.opts.attempts ?? 1;
  const attempt = job.attemptsMade + 1;

  const started = await retrying(() =>
    updateJobStatusSelecting(
      id,
      "RUNNING",
      { attempt, log: logEntry("info", `Attempt ${attempt} of ${maxAttempts} started`, { attempt, data: { worker: deps.workerName } }) },
      deps.db,
      { ...jobSummarySelect, input: true },
    ),
  ).catch((err: unknown) => {
    if (isAgentEngineError(err) && err.code === "NOT_FOUND") return null;
    throw err;
  });
  if (!started) throw new UnrecoverableError(`No AgentJob row ${id}`);
  // A row that already finished (duplicate delivery, late retry) is left exactly as it is.
  if (!started.applied) return { status: started.job.status };

  const row = started.job;

  const controller = new AbortController();
  const pending = new Set<Promise<unknown>>();
  let closed = false;
  const track = (p: Promise<unknown>) => {
    const guarded = p.catch((err: unknown) => console.error(`[agent-worker] job ${id}: write failed: ${(err as Error).message}`));
    pending.add(guarded);
    void guarded.finally(() => pending.delete(guarded));
    return guarded.then(() => undefined);
  };
  const settle = async () => {
    while (pending.size) await Promise.all([...pending]);
  };

  const ctx: HandlerContext = {
    jobId: id,
    attempt,
    signal: controller.signal,
    log: (level: LogLevel, message: string, data?: unknown) => {
      if (closed) return Promise.resolve();
      const entry = logEntry(level, String(message), data === undefined ? { attempt } : { attempt, data });
      return track(retrying(() => appendJobLogs(id, [entry], deps.db)).then(() => deps.onChange?.(id, "log")));
    },
    progress: (percent: number) => {
      if (closed) return Promise.resolve();
      return track(
        retrying(() => setJobProgress(id, percent, deps.db)).then((stored) => {
          if (stored) deps.onChange?.(id, "progress", percent);
        }),
      );
    },
  };

  const timeoutMs = deps.timeoutMs ?? def.timeoutMs;
  const timer = setTimeout(
    () => controller.abort(new AbortReason(`Timed out after ${timeoutMs} ms`, true)),
    timeoutMs,
  );
  // Built only when it happens: an Error's stack trace is costly to make for every job.
  const onShutdown = () => controller.abort(new AbortReason("the worker shut down while the job was running", false, true));
  deps.shutdownSignal?.addEventListener("abort", onShutdown, { once: true });
  const cancelPoll = setInterval(() => {
    deps.db.agentJob
      .findUnique({ where: { id }, select: { cancelRequestedAt: true } })
      .then((r) => {
        if (r?.cancelRequestedAt) controller.abort(new AbortReason("Cancelled by request", true));
      })
      .catch(() => {});
  }, deps.cancelPollMs ?? 1000);
  // Timed from the row's startedAt, so the log agrees with the duration the dashboard shows.
  const startedAt = started.job.startedAt?.getTime() ?? Date.now();

  try {
    if (row.cancelRequestedAt) throw new AbortReason("Cancelled by request", true);
    const parsed = def.input.safeParse(row.input);
    if (!parsed.success) {
      const fields = Object.entries(zodFieldErrors(parsed.error, "input")).map(([f, m]) => `${f}: ${m.join("; ")}`);
      throw new PermanentJobError(`Invalid input: ${fields.join(", ")}`);
    }
    const handler = deps.handlers[def.type] as (input: unknown, ctx: HandlerContext) => Promise<unknown>;
    const output = await raceAbort(handler(parsed.data, ctx), controller.signal);
    await settle();
    const checked = def.output.safeParse(output);
    if (!checked.success) {
      const fields = Object.entries(zodFieldErrors(checked.error, "output")).map(([f, m]) => `${f}: ${m.join("; ")}`);
      throw new PermanentJobError(`Handler returned invalid output: ${fields.join(", ")}`);
    }
    closed = true;
    const done = await retrying(() =>
      updateJobStatus(
        id,
        "COMPLETED",
        { output: checked.data, log: logEntry("info", `Completed in ${Date.now() - startedAt} ms`, { attempt }) },
        deps.db,
      ),
    );
    if (done.job.status === "FAILED") throw new UnrecoverableError(done.job.error ?? "Failed");
    return { status: done.job.status };
  } catch (err) {
    closed = true;
    await settle();
    const reason = controller.signal.aborted ? controller.signal.reason : err;
    const message = reason instanceof Error ? reason.message : String(reason);
    const permanent =
      reason instanceof PermanentJobError ||
      reason instanceof UnrecoverableError ||
      (reason instanceof AbortReason && reason.permanent);
    const stack = reason instanceof Error ? reason.stack : undefined;
    if (reason instanceof AbortReason && reason.shutdown && token) {
      // Interrupted, not failed: the job goes back to the queue without using up an attempt.
      await retrying(() =>
        updateJobStatus(
          id,
          "PENDING",
          { error: null, log: logEntry("warn", `Attempt ${attempt} interrupted: ${message}; it will run again`, { attempt }) },
          deps.db,
        ),
      );
      await job.moveToDelayed(Date.now() + 1000, token);
      throw new DelayedError();
    }
    const willRetry = !permanent && attempt < maxAttempts;
    if (willRetry) {
      const delay = (job.opts.backoff as { delay?: number } | undefined)?.delay ?? 0;
      const next = delay * 2 ** (attempt - 1);
      await retrying(() =>
        updateJobStatus(
          id,
          "PENDING",
          { error: message, log: logEntry("warn", `Attempt ${attempt} failed: ${message}; retrying in ${next} ms`, { attempt, data: { stack } }) },
          deps.db,
        ),
      );
      throw reason instanceof Error ? reason : new Error(message);
    }
    const final = permanent ? message : `${message} (attempt ${attempt} of ${maxAttempts}, no attempts left)`;
    await retrying(() =>
      updateJobStatus(
        id,
        "FAILED",
        { error: final, log: logEntry("error", `Attempt ${attempt} failed: ${message}`, { attempt, data: { stack } }) },
        deps.db,
      ),
    );
    throw new UnrecoverableError(final);
  } finally {
    clearTimeout(timer);
    clearInterval(cancelPoll);
    deps.shutdownSignal?.removeEventListener("abort", onShutdown);
  }
}

/** Settles with the handler's result, or rejects as soon as the signal fires, whichever is first. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
