import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getDb } from "../db.ts";
import { startTestWorker, waitForFinished } from "../../test-support/engine.ts";
import { PermanentJobError, type HandlerContext } from "../agents/handler-context.ts";
import { jobTypes, type JobHandlers, type JobOutput } from "../agents/job-types.ts";
import { cancelJob, createJob } from "../agents/state-manager.ts";
import { agentQueue, getAgentQueue } from "./agent-queue.ts";

const db = getDb();
const okOutput: JobOutput<"ENRICHMENT"> = { record: { name: "Ada" }, domain: null, changes: [], warnings: [] };

// Every test sets what the handler does; the worker stays up for the whole file.
let behaviour: (ctx: HandlerContext) => Promise<unknown> = async () => okOutput;
const handler = (_input: unknown, ctx: HandlerContext) => behaviour(ctx);
const handlers = { RESEARCH: handler, OUTREACH: handler, ENRICHMENT: handler } as unknown as JobHandlers;

let worker: ReturnType<typeof startTestWorker>;
beforeAll(async () => {
  worker = startTestWorker(handlers, { timeoutMs: 1500 });
  await worker.worker.waitUntilReady();
});
afterAll(async () => {
  await worker.close(1000);
  await getAgentQueue().obliterate({ force: true });
});
beforeEach(() => {
  behaviour = async () => okOutput;
});

async function runOne(type: "ENRICHMENT" = "ENRICHMENT", timeoutMs = 20_000) {
  const row = await createJob(type, jobTypes[type].example);
  const [done] = await waitForFinished([row.id], timeoutMs);
  return done!;
}

describe("agent worker", () => {
  it("logs that it processed a plain `agentQueue.add('test', {})` job", async () => {
    const job = await agentQueue.add("test", {});
    await expect.poll(() => worker.lines.some((l) => l.includes(`processed job ${job.id} 'test'`))).toBe(true);
  });

  it("runs a job to COMPLETED with its output, timestamps and attempt", async () => {
    const row = await runOne();
    expect(row.status).toBe("COMPLETED");
    expect(row.output).toEqual(okOutput);
    expect(row.attempts).toBe(1);
    expect(row.progress).toBe(100);
    expect(row.startedAt).toBeInstanceOf(Date);
    expect(row.finishedAt!.getTime()).toBeGreaterThanOrEqual(row.startedAt!.getTime());
    expect(row.logs.map((l) => (l as { message: string }).message)).toEqual([
      "Attempt 1 of 3 started",
      expect.stringMatching(/^Completed in \d+ ms$/),
    ]);
  });

  it("keeps every one of 200 un-awaited log and progress writes made before the handler returned", async () => {
    behaviour = async (ctx) => {
      for (let i = 0; i < 200; i++) {
        void ctx.log("info", `step ${i}`, { i });
        void ctx.progress(i / 2);
      }
      return okOutput;
    };
    const row = await runOne();
    expect(row.status).toBe("COMPLETED");
    const steps = row.logs.filter((l) => /^step \d+$/.test((l as { message: string }).message));
    expect(steps).toHaveLength(200);
    expect(new Set(steps.map((s) => (s as { data: { i: number } }).data.i)).size).toBe(200);
    for (const entry of row.logs) expect(Array.isArray(entry)).toBe(false);
    expect(row.progress).toBe(100);
  });

  it("ends FAILED at once on a permanent error, with the message and the stack in logs", async () => {
    behaviour = async () => {
      throw new PermanentJobError("Missing template variables: company");
    };
    const row = await runOne();
    expect(row.status).toBe("FAILED");
    expect(row.error).toBe("Missing template variables: company");
    expect(row.attempts).toBe(1);
    const last = row.logs.at(-1) as { level: string; message: string; data: { stack: string } };
    expect(last.level).toBe("error");
    expect(last.data.stack).toContain("PermanentJobError");
  });

  it("retries a failing job, never showing it FAILED in between, and keeps each attempt's error", async () => {
    const seen: string[] = [];
    behaviour = async (ctx) => {
      const row = await db.agentJob.findUniqueOrThrow({ where: { id: ctx.jobId } });
      seen.push(`${row.status}:${row.attempts}`);
      throw new Error(`flaky ${ctx.attempt}`);
    };
    const row = await runOne("ENRICHMENT", 30_000);
    expect(row.status).toBe("FAILED");
    expect(row.attempts).toBe(3);
    expect(seen).toEqual(["RUNNING:1", "RUNNING:2", "RUNNING:3"]);
    expect(row.error).toBe("flaky 3 (attempt 3 of 3, no attempts left)");
    const failures = row.logs.map((l) => (l as { message: string }).message).filter((m) => m.includes("failed"));
    expect(failures).toEqual([
      "Attempt 1 failed: flaky 1; retrying in 1000 ms",
      "Attempt 2 failed: flaky 2; retrying in 2000 ms",
      "Attempt 3 failed: flaky 3",
    ]);
  });

  it("fails a job whose output PostgreSQL cannot store instead of leaving it RUNNING", async () => {
    behaviour = async () => ({ ...okOutput, warnings: ["bad \u0000 byte"] });
    const row = await runOne();
    expect(row.status).toBe("FAILED");
    expect(row.error).toMatch(/Output could not be stored: output\.warnings\[0\] contains a NUL/);
  });

  it("fails a job whose output does not match the type's output schema", async () => {
    behaviour = async () => ({ nope: true });
    const row = await runOne();
    expect(row.status).toBe("FAILED");
    expect(row.error).toMatch(/^Handler returned invalid output: output\.record/);
  });

  it("aborts a handler that runs past its timeout and ends the job FAILED", async () => {
    let aborted = false;
    behaviour = (ctx) =>
      new Promise((resolve) => {
        ctx.signal.addEventListener("abort", () => {
          aborted = true;
        });
        setTimeout(() => resolve(okOutput), 5000);
      });
    const row = await runOne();
    expect(row.status).toBe("FAILED");
    expect(row.error).toBe("Timed out after 1500 ms");
    expect(aborted).toBe(true);
  });

  it("cancels a RUNNING job through its AbortSignal", async () => {
    behaviour = (ctx) => new Promise(() => void ctx.progress(10)); // never settles by itself
    const row = await createJob("ENRICHMENT", jobTypes.ENRICHMENT.example);
    await expect.poll(async () => (await db.agentJob.findUnique({ where: { id: row.id } }))?.status).toBe("RUNNING");
    await cancelJob(row.id);
    const [done] = await waitForFinished([row.id]);
    expect(done!.status).toBe("FAILED");
    expect(done!.error).toBe("Cancelled by request");
  });

  it("cancels a PENDING job before it runs", async () => {
    await worker.worker.pause();
    try {
      const row = await createJob("ENRICHMENT", jobTypes.ENRICHMENT.example);
      const cancelled = await cancelJob(row.id);
      expect(cancelled.status).toBe("FAILED");
      expect(await getAgentQueue().getJob(row.id)).toBeUndefined();
      await expect(cancelJob(row.id)).rejects.toMatchObject({ code: "INVALID_STATE" });
    } finally {
      worker.worker.resume();
    }
  });
});
