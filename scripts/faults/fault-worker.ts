/**
 * The fault suite's worker process: the real worker (worker/run-worker.ts: BullMQ worker, event
 * forwarder, reconciler, graceful shutdown), with the ENRICHMENT handler wrapped in behaviour the
 * job's input asks for through extra `record` fields:
 *
 *   faultSleepMs     sleep this long (abortable) before doing the work
 *   faultSlowRuns    sleep only on the first N deliveries of the job (default: every delivery)
 *   faultFailTimes   throw on attempts 1..N
 *   faultPermanent   throw PermanentJobError
 *   faultLogBurst    fire N un-awaited ctx.log() calls, then return at once
 *   faultQuiet       skip the real handler (no log/progress writes): the status write is the next DB write
 *
 * Side effects are counted durably in Redis (FAULT_COUNTER_REDIS_URL, keys under
 * FAULT_COUNTER_PREFIX), so the suite can prove what ran how often even across kill -9:
 *   <prefix>:starts:<jobId>  handler invocations        <prefix>:done:<jobId>  completed work
 *   <prefix>:by-worker       hash label -> jobs done    <prefix>:aborted:<jobId>  abort reason seen
 *   <prefix>:done-at:<jobId> when the work finished (ms since epoch)
 * The other job types run their real handlers unchanged.
 */
import { Redis } from "ioredis";
import { z } from "zod";
import { PermanentJobError, type HandlerContext } from "../../src/lib/agents/handler-context.ts";
import type { JobHandler, JobHandlers } from "../../src/lib/agents/job-types.ts";
import { handlers as realHandlers } from "../../worker/handlers/index.ts";
import { startWorkerProcess } from "../../worker/run-worker.ts";

const faultEnv = z
  .object({
    FAULT_COUNTER_REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
    FAULT_COUNTER_PREFIX: z.string().min(1),
    FAULT_WORKER_LABEL: z.string().min(1).default(`pid-${process.pid}`),
    /** Overrides every job type's timeout, so a timeout scenario need not wait 30 s. */
    FAULT_JOB_TIMEOUT_MS: z.coerce.number().int().min(100).optional(),
  })
  .parse(process.env);

const counters = new Redis(faultEnv.FAULT_COUNTER_REDIS_URL, { maxRetriesPerRequest: 3 });
counters.on("error", (err) => console.error(`[fault-worker] counters: ${err.message}`));
const key = (...parts: string[]) => [faultEnv.FAULT_COUNTER_PREFIX, ...parts].join(":");

const faultFields = z.object({
  faultSleepMs: z.number().int().min(0).default(0),
  faultSlowRuns: z.number().int().min(0).optional(),
  faultFailTimes: z.number().int().min(0).default(0),
  faultPermanent: z.boolean().default(false),
  faultLogBurst: z.number().int().min(0).default(0),
  faultQuiet: z.boolean().default(false),
});

/** Sleeps `ms`, or rejects with the signal's reason as soon as it fires (recording that it saw it). */
function abortableSleep(ms: number, ctx: HandlerContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      const reason = ctx.signal.reason instanceof Error ? ctx.signal.reason.message : String(ctx.signal.reason);
      // Both writes start before the engine records the outcome: the log append is awaited by it,
      // the Redis write is independent evidence from outside the database.
      void ctx.log("warn", `fault handler saw the abort signal: ${reason}`);
      void counters.set(key("aborted", ctx.jobId), reason);
      reject(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error(reason));
    };
    const timer = setTimeout(() => {
      ctx.signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener("abort", onAbort, { once: true });
  });
}

const enrichmentWithFaults: JobHandler<"ENRICHMENT"> = async (input, ctx) => {
  const record: Record<string, string | number | boolean | null> = {};
  const faultValues: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(input.record)) {
    if (value === undefined) continue;
    if (field.startsWith("fault")) faultValues[field] = value;
    else record[field] = value;
  }
  const fault = faultFields.parse(faultValues);
  const delivery = await counters.incr(key("starts", ctx.jobId));

  if (ctx.attempt <= fault.faultFailTimes) throw new Error(`planned failure on attempt ${ctx.attempt}`);
  if (fault.faultPermanent) throw new PermanentJobError("planned permanent failure");
  if (fault.faultSleepMs && delivery <= (fault.faultSlowRuns ?? Number.POSITIVE_INFINITY)) {
    await abortableSleep(fault.faultSleepMs, ctx);
  }
  for (let i = 0; i < fault.faultLogBurst; i++) void ctx.log("info", `burst ${i}`, { i });

  const output =
    fault.faultLogBurst || fault.faultQuiet
      ? { record, domain: null, changes: [], warnings: [] }
      : await realHandlers.ENRICHMENT({ record }, ctx);
  await counters
    .multi()
    .incr(key("done", ctx.jobId))
    .set(key("done-at", ctx.jobId), String(Date.now()))
    .hincrby(key("by-worker"), faultEnv.FAULT_WORKER_LABEL, 1)
    .exec();
  return output;
};

const handlers: JobHandlers = { ...realHandlers, ENRICHMENT: enrichmentWithFaults };

startWorkerProcess({ handlers, timeoutMs: faultEnv.FAULT_JOB_TIMEOUT_MS });
