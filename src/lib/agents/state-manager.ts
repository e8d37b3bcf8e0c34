import type { Queue } from "bullmq";
import type { z } from "zod";
import { Prisma } from "../../generated/prisma/client.ts";
import { AgentJobStatus, type AgentJobType } from "../../generated/prisma/enums.ts";
import { getDb, type Db } from "../db.ts";
import { isDatabaseUnavailable } from "../db-retry.ts";
import { getEnv } from "../env.ts";
import { AgentEngineError, type FieldErrors } from "../errors.ts";
import { getAgentQueue } from "../queue/agent-queue.ts";
import type { JobLogEntry } from "./handler-context.ts";
import { findUnstorableText, jsonByteLengthUpTo, toStorableJson } from "./json-safety.ts";
import { isJobType, jobTypeNames, jobTypes } from "./job-types.ts";

/** The columns lists and events need: everything but the (possibly large) input, output and logs. */
export const jobSummarySelect = {
  id: true,
  type: true,
  status: true,
  attempts: true,
  maxAttempts: true,
  progress: true,
  error: true,
  idempotencyKey: true,
  cancelRequestedAt: true,
  seq: true,
  createdAt: true,
  updatedAt: true,
  startedAt: true,
  finishedAt: true,
} satisfies Prisma.AgentJobSelect;

export const jobDetailSelect = {
  ...jobSummarySelect,
  input: true,
  output: true,
  logs: true,
} satisfies Prisma.AgentJobSelect;

export type JobSummary = Prisma.AgentJobGetPayload<{ select: typeof jobSummarySelect }>;
export type JobDetail = Prisma.AgentJobGetPayload<{ select: typeof jobDetailSelect }>;

/** What a caller may pass besides type and input; every field is optional. */
export type CreateJobOptions = {
  /** The same key always returns the same job, however often and concurrently it is sent. */
  idempotencyKey?: string;
  db?: Db;
  queue?: Queue;
  /** Default: MAX_INPUT_BYTES (256 KiB). */
  maxInputBytes?: number;
  /** How long to wait for Redis before reporting QUEUE_UNAVAILABLE. Default: ENQUEUE_TIMEOUT_MS (5 s). */
  enqueueTimeoutMs?: number;
};

export function zodFieldErrors(error: z.ZodError, prefix = ""): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const key = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

/** Validates type and input exactly as createJob does; returns the parsed input (defaults applied). */
export function validateJobInput(type: unknown, input: unknown, maxInputBytes = getEnv().MAX_INPUT_BYTES) {
  if (!isJobType(type)) {
    throw new AgentEngineError(
      "UNKNOWN_JOB_TYPE",
      `Unknown job type ${JSON.stringify(type)}; expected one of ${jobTypeNames.join(", ")}`,
      { fieldErrors: { type: [`Expected one of ${jobTypeNames.join(", ")}`] } },
    );
  }
  let size: number;
  try {
    size = jsonByteLengthUpTo(input, maxInputBytes);
  } catch (err) {
    const message = err instanceof RangeError ? `Input is ${err.message}` : "Input must be a JSON value";
    throw new AgentEngineError("INVALID_INPUT", message, { fieldErrors: { input: [message] } });
  }
  if (size > maxInputBytes) {
    const message = `Input is larger than the limit of ${maxInputBytes} bytes`;
    throw new AgentEngineError("INPUT_TOO_LARGE", message, { fieldErrors: { input: [message] } });
  }
  // Validate exactly what will be stored (undefined dropped, dates as strings, ...), so input that
  // passes here cannot turn invalid on its way into the database.
  const stored: unknown = JSON.parse(JSON.stringify(input));
  const unstorable = findUnstorableText(stored);
  if (unstorable) {
    const field = unstorable.path ? `input.${unstorable.path}` : "input";
    throw new AgentEngineError("INVALID_INPUT", `${field} ${unstorable.problem}`, {
      fieldErrors: { [field]: [unstorable.problem[0]!.toUpperCase() + unstorable.problem.slice(1)] },
    });
  }
  const parsed = jobTypes[type].input.safeParse(stored);
  if (!parsed.success) {
    const fieldErrors = zodFieldErrors(parsed.error, "input");
    const summary = Object.entries(fieldErrors)
      .map(([field, messages]) => `${field}: ${messages.join("; ")}`)
      .join(", ");
    throw new AgentEngineError("INVALID_INPUT", `Invalid ${type} input: ${summary}`, { fieldErrors });
  }
  return { type, input: parsed.data as Prisma.InputJsonValue };
}

/** JSON with object keys sorted, so inputs compare equal whatever order jsonb gave their keys. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string })?.code === "P2002";
}

function isRecordNotFound(err: unknown): boolean {
  return (err as { code?: string })?.code === "P2025";
}

export function logEntry(level: JobLogEntry["level"], message: string, extra: Partial<JobLogEntry> = {}): JobLogEntry {
  const entry: JobLogEntry = { at: new Date().toISOString(), level, message, ...extra };
  return toStorableJson(entry) as JobLogEntry;
}

/**
 * Adds the job to the BullMQ queue under its row id, with no data (the row holds everything);
 * adding an id that is already queued is a no-op.
 */
export async function enqueueJob(
  queue: Queue,
  job: { id: string; type: AgentJobType; maxAttempts: number },
): Promise<void> {
  const def = jobTypes[job.type];
  await queue.add(
    job.type,
    {},
    {
      jobId: job.id,
      attempts: job.maxAttempts,
      backoff: { type: "exponential", delay: def.backoffMs },
    },
  );
}

/**
 * Validates, records the job as a PENDING row, and queues it (BullMQ job id = row id).
 *
 * Bad input throws INVALID_INPUT / UNKNOWN_JOB_TYPE / INPUT_TOO_LARGE and writes nothing.
 * If the row was written but Redis cannot be reached within the enqueue timeout, this throws
 * QUEUE_UNAVAILABLE naming the job: the row stays PENDING with the reason in `error` and logs,
 * and the worker's reconciler queues it once Redis is reachable again.
 */
export async function createJob(
  type: AgentJobType | string,
  input: unknown,
  opts: CreateJobOptions = {},
): Promise<JobDetail> {
  const env = getEnv();
  const db = opts.db ?? getDb();
  const valid = validateJobInput(type, input, opts.maxInputBytes ?? env.MAX_INPUT_BYTES);
  const key = opts.idempotencyKey;
  if (key !== undefined) {
    const problem =
      key.length === 0
        ? "Must not be empty"
        : key.length > 200
          ? "At most 200 characters"
          : findUnstorableText(key)?.problem;
    if (problem) {
      throw new AgentEngineError("INVALID_INPUT", `idempotencyKey: ${problem}`, {
        fieldErrors: { idempotencyKey: [problem] },
      });
    }
  }

  // A key names one request: the same key with another type or input is a client bug, not a retry.
  const sameRequest = (existing: JobDetail): JobDetail => {
    if (existing.type !== valid.type || canonicalJson(existing.input) !== canonicalJson(valid.input)) {
      throw new AgentEngineError(
        "IDEMPOTENCY_CONFLICT",
        `idempotencyKey was already used for job ${existing.id} with a different type or input`,
        { fieldErrors: { idempotencyKey: ["Already used for a different request"] }, jobId: existing.id },
      );
    }
    return existing;
  };

  if (key) {
    const existing = await db.agentJob
      .findUnique({ where: { idempotencyKey: key }, select: jobDetailSelect })
      .catch((err: unknown) => {
        throw toDatabaseError(err);
      });
    if (existing) return sameRequest(existing);
  }

  let row: JobDetail;
  try {
    row = await db.agentJob.create({
      data: {
        type: valid.type,
        input: valid.input,
        maxAttempts: jobTypes[valid.type].attempts,
        idempotencyKey: key ?? null,
      },
      select: jobDetailSelect,
    });
  } catch (err) {
    // A concurrent call with the same key won the insert: return its job.
    if (key && isUniqueViolation(err)) {
      const winner = await db.agentJob.findUnique({ where: { idempotencyKey: key }, select: jobDetailSelect });
      if (winner) return sameRequest(winner);
    }
    throw toDatabaseError(err);
  }

  const queue = opts.queue ?? getAgentQueue();
  const timeoutMs = opts.enqueueTimeoutMs ?? env.ENQUEUE_TIMEOUT_MS;
  try {
    await withTimeout(enqueueJob(queue, row), timeoutMs, "Enqueue");
  } catch (err) {
    const reason = (err as Error).message;
    const note = `Could not confirm that the job was queued (${reason}); it stays PENDING, and the worker's reconciler queues it if the queue does not have it once Redis is reachable.`;
    await db.agentJob
      .update({
        where: { id: row.id, status: AgentJobStatus.PENDING },
        data: { error: note, logs: { push: logEntry("warn", note) as Prisma.InputJsonValue } },
      })
      .catch(() => {});
    throw new AgentEngineError(
      "QUEUE_UNAVAILABLE",
      `Job ${row.id} was saved, but queueing it did not finish: ${note}`,
      {
        jobId: row.id,
        cause: err,
      },
    );
  }
  return row;
}

export function toDatabaseError(err: unknown): Error {
  if (err instanceof AgentEngineError) return err;
  const message = (err as Error)?.message ?? String(err);
  if (isDatabaseUnavailable(err)) {
    return new AgentEngineError("DATABASE_UNAVAILABLE", `Database unavailable: ${message}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(message);
}

/** Which statuses a job may move to a given status from. Status only moves forward, except retry. */
const allowedFrom: Record<AgentJobStatus, AgentJobStatus[]> = {
  PENDING: [AgentJobStatus.RUNNING], // a failed attempt that will be retried
  RUNNING: [AgentJobStatus.PENDING, AgentJobStatus.RUNNING],
  COMPLETED: [AgentJobStatus.PENDING, AgentJobStatus.RUNNING],
  FAILED: [AgentJobStatus.PENDING, AgentJobStatus.RUNNING],
};

export type StatusResult = {
  output?: unknown;
  error?: string | null;
  /** Appended to logs in the same statement as the status change. */
  log?: JobLogEntry;
  /** With RUNNING: the attempt number that is starting. */
  attempt?: number;
};

/**
 * Moves a job to `status` if the move is allowed from its current status, and returns
 * `{ applied, job }`. A late, duplicate or out-of-order write (e.g. RUNNING after COMPLETED)
 * is refused (`applied: false`) and the row is left as it is. Throws NOT_FOUND for an unknown id.
 * Output PostgreSQL cannot store ends the job FAILED with the reason instead.
 */
export async function updateJobStatus(
  id: string,
  status: AgentJobStatus,
  result: StatusResult = {},
  db: Db = getDb(),
): Promise<{ applied: boolean; job: JobSummary }> {
  return updateJobStatusSelecting(id, status, result, db, jobSummarySelect);
}

/** updateJobStatus returning the columns of `select` (the worker needs the input as it starts). */
export async function updateJobStatusSelecting<S extends Prisma.AgentJobSelect & typeof jobSummarySelect>(
  id: string,
  status: AgentJobStatus,
  result: StatusResult,
  db: Db,
  select: S,
): Promise<{ applied: boolean; job: Prisma.AgentJobGetPayload<{ select: S }> }> {
  const now = new Date();
  let data: Prisma.AgentJobUpdateInput;
  switch (status) {
    case "RUNNING":
      data = {
        status,
        startedAt: now,
        finishedAt: null,
        ...(result.attempt !== undefined ? { attempts: result.attempt } : {}),
      };
      break;
    case "PENDING":
      data = { status, progress: 0, error: result.error ?? null };
      break;
    case "COMPLETED": {
      const problem = outputProblem(result.output);
      if (problem) {
        return updateJobStatusSelecting(id, "FAILED", { error: problem, log: logEntry("error", problem) }, db, select);
      }
      data = {
        status,
        output: (result.output ?? null) as Prisma.InputJsonValue,
        progress: 100,
        error: null,
        finishedAt: now,
      };
      break;
    }
    case "FAILED":
      data = { status, error: result.error ?? "Failed", finishedAt: now };
      break;
  }
  if (result.log) data.logs = { push: result.log as Prisma.InputJsonValue };

  try {
    const job = await db.agentJob.update({ where: { id, status: { in: allowedFrom[status] } }, data, select });
    return { applied: true, job: job as Prisma.AgentJobGetPayload<{ select: S }> };
  } catch (err) {
    if (!isRecordNotFound(err)) {
      if (status === "COMPLETED" && isUnstorableJson(err)) {
        const problem = `Output could not be stored: ${(err as Error).message}`;
        return updateJobStatusSelecting(id, "FAILED", { error: problem, log: logEntry("error", problem) }, db, select);
      }
      throw toDatabaseError(err);
    }
  }
  const job = await db.agentJob.findUnique({ where: { id }, select });
  if (!job) throw new AgentEngineError("NOT_FOUND", `No job with id ${id}`);
  return { applied: false, job: job as Prisma.AgentJobGetPayload<{ select: S }> };
}

// jsonb values are limited to 255 MiB; refuse far earlier so one job cannot bloat the table.
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

function outputProblem(output: unknown): string | null {
  if (output === undefined) return null;
  let size: number;
  try {
    size = jsonByteLengthUpTo(output, MAX_OUTPUT_BYTES);
  } catch (err) {
    return err instanceof RangeError
      ? `Output could not be stored: it is ${err.message}`
      : "Output could not be stored: it is not a JSON value";
  }
  if (size > MAX_OUTPUT_BYTES)
    return `Output could not be stored: it exceeds the ${MAX_OUTPUT_BYTES / 1024 / 1024} MiB limit`;
  const unstorable = findUnstorableText(output);
  if (unstorable) {
    return `Output could not be stored: ${unstorable.path ? `output.${unstorable.path}` : "output"} ${unstorable.problem}`;
  }
  return null;
}

function isUnstorableJson(err: unknown): boolean {
  return /22P05|unsupported Unicode escape|invalid input syntax for type json/i.test((err as Error)?.message ?? "");
}

/**
 * Appends log entries in one statement (array concatenation in SQL, no read-modify-write), so
 * concurrent appends from anywhere lose nothing. Raw SQL because Prisma's `push` of several
 * Json values stores them as one JSON array element instead of one element each.
 */
export async function appendJobLogs(id: string, entries: JobLogEntry[], db: Db = getDb()): Promise<void> {
  if (!entries.length) return;
  const safe = JSON.stringify(entries.map((e) => toStorableJson(e)));
  await db.$executeRaw`UPDATE "AgentJob" SET "logs" = COALESCE("logs", ARRAY[]::jsonb[]) || ARRAY(SELECT jsonb_array_elements(${safe}::jsonb)) WHERE "id" = ${id}`;
}

/** Records progress 0..100 of a RUNNING job; ignored once the job has finished. */
export async function setJobProgress(id: string, percent: number, db: Db = getDb()): Promise<boolean> {
  const progress = Math.max(0, Math.min(100, Math.round(Number.isFinite(percent) ? percent : 0)));
  const { count } = await db.agentJob.updateMany({ where: { id, status: "RUNNING" }, data: { progress } });
  return count > 0;
}

export type JobControlOptions = { db?: Db; queue?: Queue };

/**
 * Cancels a job. A PENDING job ends FAILED at once ("Cancelled by request") and leaves the queue;
 * a RUNNING job is flagged, and the worker running it fires the handler's AbortSignal and ends
 * it FAILED within about a second. Throws INVALID_STATE for a finished job, NOT_FOUND for none.
 */
export async function cancelJob(id: string, opts: JobControlOptions = {}): Promise<JobSummary> {
  const db = opts.db ?? getDb();
  const now = new Date();
  const reason = "Cancelled by request";
  const pending = await db.agentJob.updateMany({
    where: { id, status: "PENDING" },
    data: {
      status: "FAILED",
      error: reason,
      cancelRequestedAt: now,
      finishedAt: now,
      logs: { push: logEntry("warn", reason) as Prisma.InputJsonValue },
    },
  });
  let flagged = { count: 0 };
  if (pending.count) {
    // Best effort: a queued copy that still reaches a worker is refused there, since the row is FAILED.
    await withTimeout((opts.queue ?? getAgentQueue()).remove(id), 2000, "Queue remove").catch(() => {});
  } else {
    flagged = await db.agentJob.updateMany({
      where: { id, status: "RUNNING", cancelRequestedAt: null },
      data: { cancelRequestedAt: now, logs: { push: logEntry("warn", "Cancel requested") as Prisma.InputJsonValue } },
    });
  }
  const job = await db.agentJob.findUnique({ where: { id }, select: jobSummarySelect });
  if (!job) throw new AgentEngineError("NOT_FOUND", `No job with id ${id}`);
  if (!pending.count && !flagged.count && job.status !== "RUNNING") {
    throw new AgentEngineError(
      "INVALID_STATE",
      `Job ${id} is ${job.status}; only PENDING or RUNNING jobs can be cancelled`,
    );
  }
  return job;
}

/**
 * Runs a FAILED job again from its first attempt: the row returns to PENDING (error, output and
 * progress cleared; logs kept, with a note) and a fresh queue job is added.
 * Throws INVALID_STATE unless the job is FAILED, NOT_FOUND for none.
 */
export async function retryJob(id: string, opts: JobControlOptions = {}): Promise<JobSummary> {
  const db = opts.db ?? getDb();
  const queue = opts.queue ?? getAgentQueue();
  const { count } = await db.agentJob.updateMany({
    where: { id, status: "FAILED" },
    data: {
      status: "PENDING",
      attempts: 0,
      progress: 0,
      error: null,
      output: Prisma.DbNull,
      cancelRequestedAt: null,
      startedAt: null,
      finishedAt: null,
      logs: { push: logEntry("info", "Retry requested: running the job again") as Prisma.InputJsonValue },
    },
  });
  const job = await db.agentJob.findUnique({ where: { id }, select: jobSummarySelect });
  if (!job) throw new AgentEngineError("NOT_FOUND", `No job with id ${id}`);
  if (!count)
    throw new AgentEngineError("INVALID_STATE", `Job ${id} is ${job.status}; only FAILED jobs can be retried`);
  try {
    await withTimeout(
      (async () => {
        // BullMQ ignores add() for an id it still holds, so the old failed copy goes first.
        await queue.remove(id);
        await enqueueJob(queue, job);
      })(),
      getEnv().ENQUEUE_TIMEOUT_MS,
      "Enqueue",
    );
  } catch (err) {
    throw new AgentEngineError(
      "QUEUE_UNAVAILABLE",
      `Job ${id} is PENDING again but could not be queued (${(err as Error).message}); the worker's reconciler will queue it when Redis is reachable.`,
      { jobId: id, cause: err },
    );
  }
  return job;
}
