/**
 * The worker process (`npm run worker`): runs AgentJob handlers from the 'agent-tasks' queue,
 * forwards queue events to the dashboard's live feed, and reconciles rows the queue lost.
 * Imports only src/lib and worker/handlers: never Next.js, React or src/app.
 */
import { closeDb, getDb } from "../src/lib/db.ts";
import { getEnv } from "../src/lib/env.ts";
import { startQueueEventsForwarder } from "../src/lib/events/queue-events-forwarder.ts";
import { createAgentWorker } from "../src/lib/queue/agent-worker.ts";
import { handlers } from "./handlers/index.ts";

const env = getEnv();
const db = getDb();
const started = Date.now();

const agentWorker = createAgentWorker({ handlers, db });
const forwarder = startQueueEventsForwarder({ db, prefix: env.QUEUE_PREFIX });

console.log(
  `[worker] ${agentWorker.name} started: queue 'agent-tasks' (prefix ${env.QUEUE_PREFIX}), concurrency ${env.WORKER_CONCURRENCY}`,
);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`[worker] ${signal}: no new jobs; waiting for running ones to finish`);
  const hardExit = setTimeout(() => {
    console.error("[worker] shutdown took too long; exiting (unfinished jobs will be recovered as stalled)");
    process.exit(1);
  }, 40_000);
  hardExit.unref();
  try {
    await agentWorker.close(25_000);
    await forwarder.close();
    await closeDb();
    console.log(`[worker] stopped after ${Math.round((Date.now() - started) / 1000)} s`);
    process.exit(0);
  } catch (err) {
    console.error(`[worker] error during shutdown: ${(err as Error).message}`);
    process.exit(1);
  }
}

process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
