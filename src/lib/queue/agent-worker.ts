import { setMaxListeners } from "node:events";
import { QueueEventsProducer, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { getDb, type Db } from "../db.ts";
import { getEnv } from "../env.ts";
import { createWorkerConnection } from "../redis.ts";
import { runAgentJob } from "../agents/run-job.ts";
import type { JobHandlers } from "../agents/job-types.ts";
import { AGENT_QUEUE_NAME } from "./agent-queue.ts";

export type AgentWorkerOptions = {
  /** One handler per job type (worker/handlers); this module never imports them itself. */
  handlers: JobHandlers;
  db?: Db;
  /** Default: a new worker connection to REDIS_URL. */
  connection?: Redis;
  /** Default: QUEUE_PREFIX. */
  prefix?: string;
  /** Default: WORKER_CONCURRENCY (10). */
  concurrency?: number;
  /** Default WORKER_STALLED_INTERVAL_MS (30 s): how often to look for jobs whose worker died. */
  stalledIntervalMs?: number;
  /** Default WORKER_MAX_STALLED_COUNT (1): worker deaths a job survives before it fails as stalled. */
  maxStalledCount?: number;
  /** Default WORKER_LOCK_DURATION_MS (30 s). */
  lockDurationMs?: number;
  /** Per-type timeouts apply unless set (tests). */
  timeoutMs?: number;
  name?: string;
  log?: (line: string) => void;
};

export type AgentWorker = {
  worker: Worker;
  name: string;
  /** Stops taking jobs, waits up to graceMs for running ones, then aborts them and closes. */
  close: (graceMs?: number) => Promise<void>;
};

export function createAgentWorker(opts: AgentWorkerOptions): AgentWorker {
  const env = getEnv();
  const db = opts.db ?? getDb();
  const prefix = opts.prefix ?? env.QUEUE_PREFIX;
  const log = opts.log ?? ((line: string) => console.log(line));
  const name = opts.name ?? `worker-${process.pid}`;
  const shutdown = new AbortController();
  // Every running job listens on this one signal; more than 10 is expected, not a leak.
  setMaxListeners(0, shutdown.signal);

  // Log appends are not BullMQ events of their own; publishing them as custom QueueEvents lets
  // one forwarder carry every kind of change to the dashboard.
  // BullMQ never closes a connection instance it was given (it treats it as shared): close() below
  // disconnects the ones made here.
  const owned: Redis[] = [];
  const own = (connection: Redis) => (owned.push(connection), connection);
  const events = new QueueEventsProducer(AGENT_QUEUE_NAME, { connection: own(createWorkerConnection()), prefix });
  events.on("error", (err) => log(`[agent-worker] events: ${err.message}`));

  const worker = new Worker(
    AGENT_QUEUE_NAME,
    async (job: Job, token?: string) => {
      if (!Object.hasOwn(opts.handlers, job.name)) {
        log(`[agent-worker] processed job ${job.id} '${job.name}' (no handler for this name; nothing to run)`);
        return { status: "skipped" };
      }
      return runAgentJob(job, token, {
        db,
        handlers: opts.handlers,
        shutdownSignal: shutdown.signal,
        timeoutMs: opts.timeoutMs,
        workerName: name,
        onChange: (jobId, what, progress) => {
          if (what === "progress") void job.updateProgress(progress ?? 0).catch(() => {});
          else void events.publishEvent({ eventName: "log", jobId }).catch(() => {});
        },
      });
    },
    {
      connection: opts.connection ?? own(createWorkerConnection()),
      prefix,
      concurrency: opts.concurrency ?? env.WORKER_CONCURRENCY,
      name,
      stalledInterval: opts.stalledIntervalMs ?? env.WORKER_STALLED_INTERVAL_MS,
      lockDuration: opts.lockDurationMs ?? env.WORKER_LOCK_DURATION_MS,
      maxStalledCount: opts.maxStalledCount ?? env.WORKER_MAX_STALLED_COUNT,
    },
  );
  worker.on("error", (err) => log(`[agent-worker] ${err.message}`));
  worker.on("completed", (job, result: { status?: string }) =>
    log(`[agent-worker] ${job.name} ${job.id} -> ${result?.status ?? "done"}`),
  );
  worker.on("failed", (job, err) => log(`[agent-worker] ${job?.name} ${job?.id} attempt ${job?.attemptsMade} failed: ${err.message}`));
  worker.on("stalled", (jobId) => log(`[agent-worker] job ${jobId} stalled (its worker stopped); it will be run again`));

  return {
    worker,
    name,
    close: async (graceMs = env.SHUTDOWN_GRACE_MS) => {
      const closing = worker.close();
      const timer = setTimeout(() => shutdown.abort(), graceMs);
      try {
        await closing;
      } finally {
        clearTimeout(timer);
        await events.close().catch(() => {});
        for (const connection of owned) connection.disconnect();
      }
    },
  };
}
