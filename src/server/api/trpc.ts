import { initTRPC, TRPCError, type TRPCDefaultErrorShape } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { TRPC_ERROR_CODES_BY_KEY, type TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import type { Queue } from "bullmq";
import superjson from "superjson";
import { getDb, type Db } from "../../lib/db.ts";
import { isDatabaseUnavailable } from "../../lib/db-retry.ts";
import { AgentEngineError, isAgentEngineError, type ErrorCode, type FieldErrors } from "../../lib/errors.ts";
import { publishJobChangeBestEffort } from "../../lib/events/job-change-publisher.ts";
import type { JobEventSource } from "../../lib/events/job-change-stream.ts";
import { getJobEventBus, type JobChangeEvent } from "../../lib/events/job-events.ts";

export type TRPCContext = {
  db: Db;
  /** Live job changes (Redis pub/sub). */
  bus: JobEventSource;
  /** Tells live views about a change the API made itself; best effort. */
  publishChange: (event: JobChangeEvent) => Promise<unknown>;
  /** Undefined: the process-wide 'agent-tasks' queue, opened on first use. */
  queue: Queue | undefined;
  headers: Headers;
};

/** Every field defaults to the process-wide resource; tests pass their own. */
export type CreateContextOptions = Partial<TRPCContext>;

export function createTRPCContext(opts: CreateContextOptions = {}): TRPCContext {
  return {
    db: opts.db ?? getDb(),
    bus: opts.bus ?? getJobEventBus(),
    publishChange: opts.publishChange ?? publishJobChangeBestEffort,
    queue: opts.queue,
    headers: opts.headers ?? new Headers(),
  };
}

/** The one mapping from engine error codes to tRPC (and so HTTP) codes. */
const trpcCodeByErrorCode = {
  UNKNOWN_JOB_TYPE: "BAD_REQUEST",
  INVALID_INPUT: "BAD_REQUEST",
  INPUT_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  NOT_FOUND: "NOT_FOUND",
  INVALID_STATE: "CONFLICT",
  IDEMPOTENCY_CONFLICT: "CONFLICT",
  QUEUE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  DATABASE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
} as const satisfies Record<ErrorCode, TRPC_ERROR_CODE_KEY>;

export function toTRPCError(err: unknown): TRPCError {
  if (err instanceof TRPCError) return err;
  if (!isAgentEngineError(err) && isDatabaseUnavailable(err)) {
    return toTRPCError(new AgentEngineError("DATABASE_UNAVAILABLE", "Database unavailable; try again shortly", { cause: err }));
  }
  if (isAgentEngineError(err)) {
    return new TRPCError({ code: trpcCodeByErrorCode[err.code], message: err.message, cause: err });
  }
  return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: (err as Error)?.message ?? String(err), cause: err });
}

export type ErrorData = TRPCDefaultErrorShape["data"] & {
  /** Field path ("input.topic", "limit", "cursor") -> messages, for showing next to form fields. */
  fieldErrors?: FieldErrors;
  /** The job concerned, e.g. one that was saved but could not be queued. */
  jobId?: string;
};

type SchemaIssue = { path?: readonly (PropertyKey | { key: PropertyKey })[]; message: string };

function hasIssues(value: unknown): value is { issues: SchemaIssue[] } {
  return Array.isArray((value as { issues?: unknown })?.issues);
}

/** zod (or any Standard Schema) issues -> field path -> messages; "" is the input as a whole. */
export function issuesToFieldErrors(issues: readonly SchemaIssue[]): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of issues) {
    const key = (issue.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join(".");
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

export function formatError({ shape, error }: { shape: TRPCDefaultErrorShape; error: TRPCError }): TRPCDefaultErrorShape & {
  data: ErrorData;
} {
  const cause = error.cause;
  const data: ErrorData = { ...shape.data };
  let { message, code } = shape;
  if (isAgentEngineError(cause)) {
    // Thrown where no procedure middleware converted it (e.g. inside a subscription's stream).
    if (error.code === "INTERNAL_SERVER_ERROR") {
      const mapped = toTRPCError(cause);
      code = TRPC_ERROR_CODES_BY_KEY[mapped.code];
      data.code = mapped.code;
      data.httpStatus = getHTTPStatusCodeFromError(mapped);
    }
    if (cause.fieldErrors) data.fieldErrors = cause.fieldErrors;
    if (cause.jobId) data.jobId = cause.jobId;
  } else if (error.code === "BAD_REQUEST" && hasIssues(cause)) {
    data.fieldErrors = issuesToFieldErrors(cause.issues);
    message = `Invalid input: ${Object.entries(data.fieldErrors)
      .map(([field, messages]) => (field ? `${field}: ${messages.join("; ")}` : messages.join("; ")))
      .join(", ")}`;
  }
  return { ...shape, message, code, data };
}

const t = initTRPC.context<TRPCContext>().create({
  transformer: superjson,
  errorFormatter: formatError,
  sse: {
    // Pings keep proxies from closing an idle stream and let the server notice a vanished client;
    // the client reconnects (with lastEventId) when it hears nothing for twice that long.
    ping: { enabled: true, intervalMs: 10_000 },
    client: { reconnectAfterInactivityMs: 20_000 },
  },
});

/**
 * Converts engine errors thrown by resolvers into TRPCErrors with the mapped code, so the HTTP
 * status and createCaller's error carry it (an errorFormatter alone only changes the body).
 */
const engineErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.code === "INTERNAL_SERVER_ERROR") {
    const cause = result.error.cause;
    if (isAgentEngineError(cause) || isDatabaseUnavailable(cause)) throw toTRPCError(cause);
  }
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(engineErrors);
