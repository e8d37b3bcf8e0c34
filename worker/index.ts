/**
 * The worker process (`npm run worker`): runs AgentJob handlers from the 'agent-tasks' queue,
 * forwards queue events to the dashboard's live feed, and reconciles rows the queue lost.
 * Imports only src/lib and worker/handlers: never Next.js, React or src/app.
 */
import { startReconciler } from "../src/lib/agents/reconciler.ts";
import { closeDb, getDb } from "../src/lib/db.ts";
import { getEnv } from "../src/lib/env.ts";
import { startQueueEventsForwarder } from "../src/lib/events/queue-events-forwarder.ts";
import { closeAgentQueue, getAgentQueue } from "../src/lib/queue/agent-queue.ts";
import { createAgentWorker } from "../src/lib/queue/agent-worker.ts";
import { handlers } from "./handlers/index.ts";

const env = getEnv();
const db = getDb();
const started = Date.now();

const agentWorker = createAgentWorker({ handlers, db });
const forwarder = startQueueEventsForwarder({ db, prefix: env.QUEUE_PREFIX });
const reconciler = startReconciler({
  db,
  queue: getAgentQueue(),
  graceMs: env.RECONCILE_GRACE_MS,
  intervalMs: env.RECONCILE_INTERVAL_MS,
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
  console.log(`[worker] ${signal}: taking no new jobs; running ones get ${env.SHUTDOWN_GRACE_MS} ms to finish`);
  const hardExit = setTimeout(() => {
    console.error("[worker] shutdown took too long; exiting (unfinished jobs will be recovered as stalled)");
    process.exit(1);
  }, env.SHUTDOWN_GRACE_MS + 15_000);
  hardExit.unref();
  try {
    await reconciler.stop();
    await agentWorker.close();
    await forwarder.close();
    await closeAgentQueue();
    await closeDb();
    const t = reconciler.totals;
    console.log(
      `[worker] stopped after ${Math.round((Date.now() - started) / 1000)} s; reconciler repaired ${t.requeuedPending + t.recoveredRunning + t.failedStalled}`,
    );
    process.exit(0);
  } catch (err) {
    console.error(`[worker] error during shutdown: ${(err as Error).message}`);
    process.exit(1);
  }
}

process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
