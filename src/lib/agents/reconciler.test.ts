import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../db.ts";
import { getAgentQueue } from "../queue/agent-queue.ts";
import { startTestWorker, waitForFinished } from "../../test-support/engine.ts";
import type { HandlerContext } from "./handler-context.ts";
import { jobTypes, type JobHandlers } from "./job-types.ts";
import { reconcileOnce } from "./reconciler.ts";
import { createJob, updateJobStatus } from "./state-manager.ts";

const db = getDb();
const queue = getAgentQueue();
const okOutput = { record: { name: "Ada" }, domain: null, changes: [], warnings: [] };
let behaviour: (ctx: HandlerContext) => Promise<unknown> = async () => okOutput;
const handler = (_input: unknown, ctx: HandlerContext) => behaviour(ctx);
const handlers = { RESEARCH: handler, OUTREACH: handler, ENRICHMENT: handler } as unknown as JobHandlers;

// Other test files share this database; their unfinished rows would be reconciled here too.
beforeAll(async () => {
  await queue.obliterate({ force: true });
  await db.agentJob.deleteMany();
});
afterEach(async () => {
  behaviour = async () => okOutput;
  await queue.obliterate({ force: true });
  await db.agentJob.deleteMany();
});
afterAll(async () => {
  await queue.obliterate({ force: true });
});

const example = jobTypes.ENRICHMENT.example;

describe("reconciler", () => {
  it("requeues PENDING rows whose queue jobs vanished, and every one then completes", async () => {
    const rows = await Promise.all(Array.from({ length: 20 }, () => createJob("ENRICHMENT", example)));
    await queue.obliterate({ force: true }); // what FLUSHALL does to this queue
    expect(await queue.getJobState(rows[0]!.id)).toBe("unknown");

    const announced: string[] = [];
    const report = await reconcileOnce({ db, queue, graceMs: 0, announce: async (job) => announced.push(job.id) });
    expect(report).toMatchObject({ checked: 20, requeuedPending: 20, recoveredRunning: 0, failedStalled: 0 });
    expect(announced.sort()).toEqual(rows.map((r) => r.id).sort());
    expect(await reconcileOnce({ db, queue, graceMs: 0 })).toMatchObject({ requeuedPending: 0 });

    const worker = startTestWorker(handlers);
    try {
      const done = await waitForFinished(rows.map((r) => r.id));
      expect(done.map((r) => r.status)).toEqual(Array(20).fill("COMPLETED"));
      expect(done[0]!.logs.some((l) => /Queued again by the reconciler/.test((l as { message: string }).message))).toBe(true);
    } finally {
      await worker.close(1000);
    }
  });

  it("leaves recent rows alone (their enqueue may still be under way)", async () => {
    await createJob("ENRICHMENT", example);
    await queue.obliterate({ force: true });
    expect(await reconcileOnce({ db, queue, graceMs: 60_000 })).toMatchObject({ checked: 0, requeuedPending: 0 });
  });

  it("recovers a RUNNING row whose queue job is gone", async () => {
    const row = await createJob("ENRICHMENT", example);
    await updateJobStatus(row.id, "RUNNING", { attempt: 1 });
    await queue.obliterate({ force: true });
    expect(await reconcileOnce({ db, queue, graceMs: 0 })).toMatchObject({ recoveredRunning: 1 });
    expect((await db.agentJob.findUniqueOrThrow({ where: { id: row.id } })).status).toBe("PENDING");
    expect(await queue.getJobState(row.id)).toBe("waiting");
  });

  it("fails a RUNNING row whose queue job failed without the worker recording it", async () => {
    const row = await createJob("ENRICHMENT", example);
    await updateJobStatus(row.id, "RUNNING", { attempt: 1 });
    const job = await queue.getJob(row.id);
    // Simulate BullMQ failing the job behind the worker's back (as it does after too many stalls).
    await job!.moveToFailed(new Error("job stalled more than allowable limit"), "0", false).catch(async () => {
      await queue.remove(row.id);
      await queue.add("ENRICHMENT", {}, { jobId: row.id });
    });
    const state = await queue.getJobState(row.id);
    const report = await reconcileOnce({ db, queue, graceMs: 0 });
    const after = await db.agentJob.findUniqueOrThrow({ where: { id: row.id } });
    if (state === "failed") {
      expect(report.failedStalled).toBe(1);
      expect(after.status).toBe("FAILED");
      expect(after.error).toBe("Stalled: job stalled more than allowable limit");
    } else {
      expect(report.recoveredRunning).toBe(1);
    }
  });

  it("never touches a row that finished meanwhile", async () => {
    const row = await createJob("ENRICHMENT", example);
    await updateJobStatus(row.id, "RUNNING", { attempt: 1 });
    await updateJobStatus(row.id, "COMPLETED", { output: okOutput });
    await queue.obliterate({ force: true });
    expect(await reconcileOnce({ db, queue, graceMs: 0 })).toMatchObject({ checked: 0 });
    expect((await db.agentJob.findUniqueOrThrow({ where: { id: row.id } })).status).toBe("COMPLETED");
  });
});

describe("graceful shutdown", () => {
  it("interrupts a job that outlives the grace period and requeues it without using an attempt", async () => {
    let release!: () => void;
    behaviour = (ctx) =>
      new Promise((resolve, reject) => {
        release = () => resolve(okOutput);
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
      });
    const first = startTestWorker(handlers);
    const row = await createJob("ENRICHMENT", example);
    await expect.poll(async () => (await db.agentJob.findUniqueOrThrow({ where: { id: row.id } })).status).toBe("RUNNING");
    await first.close(200);

    const interrupted = await db.agentJob.findUniqueOrThrow({ where: { id: row.id } });
    expect(interrupted.status).toBe("PENDING");
    expect(interrupted.logs.some((l) => /interrupted: the worker shut down/.test((l as { message: string }).message))).toBe(true);
    expect(await queue.getJobState(row.id)).toBe("delayed");
    expect(release).toBeTypeOf("function");

    behaviour = async () => okOutput;
    const second = startTestWorker(handlers);
    try {
      const [done] = await waitForFinished([row.id]);
      expect(done!.status).toBe("COMPLETED");
      // The interrupted run did not use up an attempt: the rerun is attempt 1 again.
      expect(done!.attempts).toBe(1);
    } finally {
      await second.close(1000);
    }
  });

  it("lets a running job finish within the grace period", async () => {
    behaviour = () => new Promise((resolve) => setTimeout(() => resolve(okOutput), 500));
    const worker = startTestWorker(handlers);
    const row = await createJob("ENRICHMENT", example);
    await expect.poll(async () => (await db.agentJob.findUniqueOrThrow({ where: { id: row.id } })).status).toBe("RUNNING");
    await worker.close(5000);
    expect((await db.agentJob.findUniqueOrThrow({ where: { id: row.id } })).status).toBe("COMPLETED");
  });
});
