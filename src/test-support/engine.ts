import type { AgentJobStatus } from "../generated/prisma/enums.ts";
import { getDb } from "../lib/db.ts";
import type { JobHandlers } from "../lib/agents/job-types.ts";
import { createAgentWorker, type AgentWorkerOptions } from "../lib/queue/agent-worker.ts";

const terminal: AgentJobStatus[] = ["COMPLETED", "FAILED"];

/** Starts an in-process worker on the test run's queue; remember to close() it. */
export function startTestWorker(handlers: JobHandlers, opts: Partial<AgentWorkerOptions> = {}) {
  const lines: string[] = [];
  const worker = createAgentWorker({ handlers, concurrency: 50, log: (l) => lines.push(l), ...opts });
  return { ...worker, lines };
}

/** Polls the row until every id is COMPLETED or FAILED (or the deadline passes) and returns the rows. */
export async function waitForFinished(ids: string[], timeoutMs = 30_000) {
  const db = getDb();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await db.agentJob.findMany({ where: { id: { in: ids } } });
    const done = rows.filter((r) => terminal.includes(r.status));
    if (done.length === ids.length || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
}
