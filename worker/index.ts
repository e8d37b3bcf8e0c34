/**
 * The worker process (`npm run worker`): runs AgentJob handlers from the 'agent-tasks' queue,
 * forwards queue events to the dashboard's live feed, and reconciles rows the queue lost.
 * Imports only src/lib and worker/handlers: never Next.js, React or src/app.
 */
import { handlers } from "./handlers/index.ts";
import { startWorkerProcess } from "./run-worker.ts";

startWorkerProcess({ handlers });
