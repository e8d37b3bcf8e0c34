/**
 * Direct access to the run's database and queue from the test process (same env as the app and
 * the worker), for seeding jobs while the web server is down and checking what was written.
 */
import { createJob } from "../../src/lib/agents/state-manager.ts";
import { closeDb, getDb } from "../../src/lib/db.ts";
import { closeAgentQueue } from "../../src/lib/queue/agent-queue.ts";

export { createJob, getDb };

export async function countJobs(): Promise<number> {
  return getDb().agentJob.count();
}

export async function jobStatus(id: string): Promise<string | undefined> {
  return (await getDb().agentJob.findUnique({ where: { id }, select: { status: true } }))?.status;
}

export async function closeEngine(): Promise<void> {
  await closeAgentQueue();
  await closeDb();
}
