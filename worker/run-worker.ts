/**
 * The worker process's wiring, shared by `worker/index.ts` (the real handlers) and the fault suite's
 * worker (scripts/faults/fault-worker.ts), so both run exactly the same engine: the BullMQ worker,
 * the QueueEvents forwarder, the reconciler, and SIGTERM/SIGINT graceful shutdown.
 * Imports only src/lib: never Next.js, React or src/app.
 */
import type { JobHandlers } from "../src/lib/agents/job-types.ts";
import { startReconciler } from "../src/lib/agents/reconciler.ts";
import { closeDb, getDb } from "../src/lib/db.ts";
import { getEnv } from "../src/lib/env.ts";
import { closeJobChangePublisher, publishJobChangeBestEffort } from "../src/lib/events/job-change-publisher.ts";
import { startQueueEventsForwarder } from "../src/lib/events/queue-events-forwarder.ts";
import { closeAgentQueue, getAgentQueue } from "../src/lib/queue/agent-queue.ts";
import { createAgentWorker } from "../src/lib/queue/agent-worker.ts";

export type WorkerProcessOptions = {
  handlers: JobHandlers;
  /** Overrides every job type's timeout (the fault suite); per-type timeouts apply unless set. */
  timeoutMs?: number;
};

/** Starts the worker, forwarder and reconciler, and exits the process after a graceful stop on SIGTERM/SIGINT. */
export function startWorkerProcess(opts: WorkerProcessOptions): void {
  const env = getEnv();
  const db = getDb();
  const started = Date.now();

  const agentWorker = createAgentWorker({ handlers: opts.handlers, db, timeoutMs: opts.timeoutMs });
  const forwarder = startQueueEventsForwarder({ db, prefix: env.QUEUE_PREFIX });
  const reconciler = startReconciler({
    db,
    queue: getAgentQueue(),
    graceMs: env.RECONCILE_GRACE_MS,
    intervalMs: env.RECONCILE_INTERVAL_MS,
    announce: (job) => publishJobChangeBestEffort({ kind: "changed", job }),
  });
  // A pass at start-up repairs what happened while no worker was running.
  void reconciler.runNow();

  console.log(
    `[worker] ${agentWorker.name} started: queue 'agent-tasks' (prefix ${env.QUEUE_PREFIX}), concurrency ${env.WORKER_CONCURRENCY}`,
  );

  let stopping = false;
  async function stop(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    const stopAt = Date.now();
    console.log(`[worker] ${signal}: taking no new jobs; running ones get ${env.SHUTDOWN_GRACE_MS} ms to finish`);
    const hardExit = setTimeout(() => {
      console.error("[worker] shutdown took too long; exiting (unfinished jobs will be recovered as stalled)");
      process.exit(1);
    }, env.SHUTDOWN_GRACE_MS + 15_000);
    hardExit.unref();
    try {
      // The worker stops taking jobs (and its grace period starts) at once; a reconciler pass still in
      // flight, which can take long on a big backlog or a slow database, must not delay that.
      await Promise.all([agentWorker.close(), reconciler.stop()]);
      await forwarder.close();
      await closeJobChangePublisher();
      await closeAgentQueue();
      await closeDb();
      const t = reconciler.totals;
      console.log(
        `[worker] stopped cleanly in ${Date.now() - stopAt} ms (ran ${Math.round((stopAt - started) / 1000)} s; reconciler repaired ${t.requeuedPending + t.recoveredRunning + t.failedStalled} rows)`,
      );
      process.exit(0);
    } catch (err) {
      console.error(`[worker] error during shutdown: ${(err as Error).message}`);
      process.exit(1);
    }
  }

  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
