/**
 * `npm run bench [-- --jobs 2000 --concurrency 50]`: no-op jobs through the whole engine
 * (createJob: row -> queue -> worker -> COMPLETED row) next to raw BullMQ no-op jobs on the same
 * Redis in the same run. Prints jobs/s and create->finished latency p50/p99; no pass/fail.
 * Uses its own throwaway database and queue prefix.
 */
import { Queue, Worker } from "bullmq";
import { parseArgs } from "node:util";
import { createTestDatabase, deleteQueuePrefix, uniqueName } from "../src/test-support/test-database.ts";

const { values } = parseArgs({
  options: { jobs: { type: "string", default: "2000" }, concurrency: { type: "string", default: "50" } },
});
const jobs = Number(values.jobs);
const concurrency = Number(values.concurrency);
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

const db = await createTestDatabase("bench");
const prefix = uniqueName("bench");
// The engine modules read their config on first use, so set it before importing them.
process.env.DATABASE_URL = db.url;
process.env.QUEUE_PREFIX = prefix;
process.env.REDIS_URL = redisUrl;
process.env.WORKER_CONCURRENCY = String(concurrency);

const { getDb, closeDb } = await import("../src/lib/db.ts");
const { createJob } = await import("../src/lib/agents/state-manager.ts");
const { closeAgentQueue } = await import("../src/lib/queue/agent-queue.ts");
const { createAgentWorker } = await import("../src/lib/queue/agent-worker.ts");
type Handlers = import("../src/lib/agents/job-types.ts").JobHandlers;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Runs `task` for 0..n-1 with at most `width` in flight. */
async function inParallel(n: number, width: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

type Result = { label: string; seconds: number; latencies: number[] };

const sequential = Math.min(200, jobs);

/** Resolves when `worker` reports job `id` completed, also if that happened before the call. */
function completionWaiter(worker: Worker) {
  const waiting = new Map<string, () => void>();
  const completed = new Set<string>();
  worker.on("completed", (job) => {
    const resolve = waiting.get(job.id!);
    if (resolve) resolve();
    else completed.add(job.id!);
  });
  return (id: string) =>
    new Promise<void>((resolve) => {
      if (completed.delete(id)) resolve();
      else waiting.set(id, resolve);
    });
}

/** Latency of one job at a time on an idle system: `run` adds a job and waits for it to finish. */
async function idleLatency(run: (i: number) => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < sequential; i++) {
    const t = performance.now();
    await run(i);
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

function describeIdle(label: string, sorted: number[]) {
  console.log(
    `${label}, one job at a time (${sorted.length} jobs): latency p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms`,
  );
  return percentile(sorted, 50);
}

async function rawBullmq(): Promise<Result> {
  const name = "bench-raw";
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection, prefix });
  const addedAt = new Map<string, number>();
  const latencies: number[] = [];
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const worker = new Worker(name, async () => ({}), { connection, prefix, concurrency });
  await worker.waitUntilReady();
  const waitFor = completionWaiter(worker);
  idle.raw = describeIdle("raw BullMQ add -> completed", await idleLatency(async (i) => {
    const done = waitFor(`idle-${i}`);
    await queue.add("noop", {}, { jobId: `idle-${i}`, removeOnComplete: true });
    await done;
  }));
  worker.on("completed", (job) => {
    if (!addedAt.has(job.id!)) return;
    latencies.push(performance.now() - addedAt.get(job.id!)!);
    if (++done === jobs) finish();
  });
  const start = performance.now();
  await inParallel(jobs, concurrency, async (i) => {
    const id = `raw-${i}`;
    addedAt.set(id, performance.now());
    await queue.add("noop", {}, { jobId: id, removeOnComplete: true });
  });
  await finished;
  const seconds = (performance.now() - start) / 1000;
  await worker.close();

  // addBulk throughput, for reference (jobs added, not processed).
  const bulkStart = performance.now();
  for (let i = 0; i < jobs; i += 500) {
    await queue.addBulk(Array.from({ length: Math.min(500, jobs - i) }, () => ({ name: "noop", data: {} })));
  }
  const bulkRate = jobs / ((performance.now() - bulkStart) / 1000);
  console.log(`raw BullMQ addBulk: ${Math.round(bulkRate)} jobs/s added`);
  await queue.obliterate({ force: true });
  await queue.close();
  return { label: "raw BullMQ (add -> completed)", seconds, latencies };
}

async function engine(): Promise<Result> {
  const noop = async () => ({ record: {}, domain: null, changes: [], warnings: [] });
  const handlers = { RESEARCH: noop, OUTREACH: noop, ENRICHMENT: noop } as unknown as Handlers;
  const agentWorker = createAgentWorker({ handlers, concurrency, log: () => {} });
  await agentWorker.worker.waitUntilReady();
  const prisma = getDb();
  const input = { record: { name: "x" } };
  const waitFor = completionWaiter(agentWorker.worker);
  idle.engine = describeIdle("engine createJob -> COMPLETED row", await idleLatency(async () => {
    const row = await createJob("ENRICHMENT", input);
    await waitFor(row.id);
  }));
  await prisma.agentJob.deleteMany();
  const ids: string[] = [];
  const start = performance.now();
  await inParallel(jobs, concurrency, async () => {
    ids.push((await createJob("ENRICHMENT", input)).id);
  });
  for (;;) {
    const remaining = await prisma.agentJob.count({ where: { status: { notIn: ["COMPLETED", "FAILED"] } } });
    if (remaining === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - start) / 1000;
  const rows = await prisma.agentJob.findMany({ select: { status: true, createdAt: true, finishedAt: true } });
  const failed = rows.filter((r) => r.status !== "COMPLETED").length;
  if (failed) console.log(`engine: ${failed} jobs did not complete`);
  await agentWorker.close(1000);
  return {
    label: "engine (createJob -> COMPLETED row)",
    seconds,
    latencies: rows.map((r) => r.finishedAt!.getTime() - r.createdAt.getTime()),
  };
}

const idle = { raw: NaN, engine: NaN };

function report(r: Result) {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const rate = jobs / r.seconds;
  console.log(
    `${r.label}, ${concurrency} in flight: ${jobs} jobs in ${r.seconds.toFixed(2)} s = ${Math.round(rate)} jobs/s; latency p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms`,
  );
  return { rate, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

try {
  console.log(`bench: ${jobs} no-op jobs, concurrency ${concurrency}, Redis ${redisUrl}, fresh database ${db.name}`);
  const raw = report(await rawBullmq());
  const eng = report(await engine());
  console.log(
    `engine / raw: throughput ${(eng.rate / raw.rate).toFixed(3)}x; idle latency p50 ${(idle.engine / idle.raw).toFixed(1)}x; loaded latency p50 ${(eng.p50 / raw.p50).toFixed(1)}x, p99 ${(eng.p99 / raw.p99).toFixed(1)}x`,
  );
} finally {
  await closeAgentQueue();
  await closeDb();
  await db.drop();
  await deleteQueuePrefix(redisUrl, prefix);
}
