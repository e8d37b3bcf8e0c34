import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { getDb } from "../db.ts";
import { getEnv } from "../env.ts";
import { AgentEngineError } from "../errors.ts";
import { createProducerConnection } from "../redis.ts";
import { AGENT_QUEUE_NAME, getAgentQueue } from "../queue/agent-queue.ts";
import { appendJobLogs, createJob, logEntry, updateJobStatus } from "./state-manager.ts";
import { jobTypes } from "./job-types.ts";

const db = getDb();
const queue = getAgentQueue();

async function countRows() {
  return db.agentJob.count();
}
async function countQueued() {
  const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "completed", "failed");
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
async function expectRejectsNothingWritten(run: () => Promise<unknown>, code: string, field?: string) {
  const rowsBefore = await countRows();
  const queuedBefore = await countQueued();
  const err = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentEngineError);
  expect((err as AgentEngineError).code).toBe(code);
  if (field) expect(Object.keys((err as AgentEngineError).fieldErrors ?? {})).toContain(field);
  expect(await countRows()).toBe(rowsBefore);
  expect(await countQueued()).toBe(queuedBefore);
  return err as AgentEngineError;
}

beforeAll(async () => {
  await queue.waitUntilReady();
});
afterAll(async () => {
  await queue.obliterate({ force: true });
});

describe("createJob", () => {
  it("creates the PENDING row and a BullMQ job whose id is the row id", async () => {
    const row = await createJob("ENRICHMENT", jobTypes.ENRICHMENT.example);
    expect(row.status).toBe("PENDING");
    expect(row.type).toBe("ENRICHMENT");
    expect(row.maxAttempts).toBe(jobTypes.ENRICHMENT.attempts);
    const stored = await db.agentJob.findUniqueOrThrow({ where: { id: row.id } });
    expect(stored.input).toEqual(jobTypes.ENRICHMENT.example);
    const job = await queue.getJob(row.id);
    expect(job?.name).toBe("ENRICHMENT");
    expect(job?.opts.attempts).toBe(jobTypes.ENRICHMENT.attempts);
    expect(await job?.getState()).toBe("waiting");
  });

  it("stores the input with schema defaults applied", async () => {
    const row = await createJob("RESEARCH", { topic: "t", sources: [{ text: "One sentence." }] });
    expect(row.input).toMatchObject({ maxKeyTerms: 10, summarySentences: 3 });
  });

  it("refuses an unknown type and writes nothing", async () => {
    const err = await expectRejectsNothingWritten(() => createJob("SUMMARISE", {}), "UNKNOWN_JOB_TYPE", "type");
    expect(err.message).toContain("RESEARCH, OUTREACH, ENRICHMENT");
  });

  it("names the failing field when input fails its schema", async () => {
    const bad = { ...jobTypes.OUTREACH.example, contact: { firstName: "Ada", email: "not-an-email" } };
    const err = await expectRejectsNothingWritten(() => createJob("OUTREACH", bad), "INVALID_INPUT", "input.contact.email");
    expect(err.message).toContain("input.contact.email");
  });

  it("refuses input that jsonb cannot store (U+0000) and names where it is", async () => {
    const bad = { topic: "x", sources: [{ text: "abc\u0000def" }] };
    const err = await expectRejectsNothingWritten(() => createJob("RESEARCH", bad), "INVALID_INPUT", "input.sources[0].text");
    expect(err.message).toContain("NUL");
  });

  it("refuses a NUL in an object key too", async () => {
    const bad = { record: { ["na\u0000me"]: "x" } };
    await expectRejectsNothingWritten(() => createJob("ENRICHMENT", bad), "INVALID_INPUT", "input.record.na\u0000me");
  });

  it("refuses input over the size limit", async () => {
    const big = { topic: "x", sources: [{ text: "a".repeat(300 * 1024) }] };
    const err = await expectRejectsNothingWritten(() => createJob("RESEARCH", big), "INPUT_TOO_LARGE", "input");
    expect(err.message).toMatch(/limit of 262144 bytes/);
  });

  it("refuses values that are not JSON", async () => {
    await expectRejectsNothingWritten(() => createJob("RESEARCH", undefined), "INVALID_INPUT", "input");
  });

  it("refuses unpaired surrogates, which jsonb cannot store either", async () => {
    await expectRejectsNothingWritten(() => createJob("ENRICHMENT", { record: { name: "a\ud800b" } }), "INVALID_INPUT", "input.record.name");
  });

  it("refuses, quickly and without expanding it, a small input whose shared references make a huge tree", async () => {
    const input: Record<string, unknown> = { record: { name: "x" } };
    let node: unknown = { s: "z".repeat(100) };
    for (let i = 0; i < 30; i++) node = { l: node, r: node }; // 2^30 leaves once written out
    input.tree = node;
    await expectRejectsNothingWritten(() => createJob("ENRICHMENT", input), "INPUT_TOO_LARGE", "input");
  });

  it("refuses input nested deeper than it could need", async () => {
    let deep: unknown = "x";
    for (let i = 0; i < 200; i++) deep = { d: deep };
    await expectRejectsNothingWritten(() => createJob("ENRICHMENT", { record: { name: "x", deep } }), "INVALID_INPUT", "input");
  });

  it("validates the input as it will be stored (undefined fields vanish)", async () => {
    await expectRejectsNothingWritten(() => createJob("ENRICHMENT", { record: { name: undefined } }), "INVALID_INPUT", "input.record");
  });

  it("refuses an idempotency key reused for a different request, and an empty key", async () => {
    const key = `reuse-${Date.now()}`;
    const first = await createJob("ENRICHMENT", jobTypes.ENRICHMENT.example, { idempotencyKey: key });
    const again = await createJob("ENRICHMENT", { ...jobTypes.ENRICHMENT.example }, { idempotencyKey: key });
    expect(again.id).toBe(first.id);
    const err = await expectRejectsNothingWritten(
      () => createJob("RESEARCH", jobTypes.RESEARCH.example, { idempotencyKey: key }),
      "IDEMPOTENCY_CONFLICT",
      "idempotencyKey",
    );
    expect(err.jobId).toBe(first.id);
    await expectRejectsNothingWritten(() => createJob("ENRICHMENT", jobTypes.ENRICHMENT.example, { idempotencyKey: "" }), "INVALID_INPUT", "idempotencyKey");
  });

  it("returns the same job for the same idempotency key, also under concurrency", async () => {
    const key = `key-${Date.now()}`;
    const rows = await Promise.all(
      Array.from({ length: 20 }, () => createJob("ENRICHMENT", jobTypes.ENRICHMENT.example, { idempotencyKey: key })),
    );
    expect(new Set(rows.map((r) => r.id)).size).toBe(1);
    expect(await db.agentJob.count({ where: { idempotencyKey: key } })).toBe(1);
  });

  it("reports QUEUE_UNAVAILABLE within the timeout when Redis is unreachable, and the row says why", async () => {
    const deadQueue = new Queue(AGENT_QUEUE_NAME, {
      connection: createProducerConnection("redis://127.0.0.1:1", { retryStrategy: () => null }),
      prefix: getEnv().QUEUE_PREFIX,
    });
    deadQueue.on("error", () => {});
    const started = Date.now();
    const err = await createJob("ENRICHMENT", jobTypes.ENRICHMENT.example, { queue: deadQueue, enqueueTimeoutMs: 500 }).then(
      () => null,
      (e: unknown) => e as AgentEngineError,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err?.code).toBe("QUEUE_UNAVAILABLE");
    expect(err?.jobId).toBeTruthy();
    const row = await db.agentJob.findUniqueOrThrow({ where: { id: err!.jobId! } });
    expect(row.status).toBe("PENDING");
    expect(row.error).toMatch(/reconciler queues it/);
    expect(row.logs).toHaveLength(1);
    await deadQueue.close().catch(() => {});
  });
});

describe("updateJobStatus", () => {
  it("moves forward and never back from a finished state", async () => {
    const row = await createJob("ENRICHMENT", jobTypes.ENRICHMENT.example);
    expect((await updateJobStatus(row.id, "RUNNING", { attempt: 1 })).applied).toBe(true);
    const done = await updateJobStatus(row.id, "COMPLETED", { output: { ok: true } });
    expect(done.applied).toBe(true);
    expect(done.job.status).toBe("COMPLETED");
    expect(done.job.progress).toBe(100);
    expect(done.job.finishedAt).toBeInstanceOf(Date);

    for (const late of ["RUNNING", "PENDING", "FAILED"] as const) {
      const r = await updateJobStatus(row.id, late, { error: "late" });
      expect(r.applied).toBe(false);
      expect(r.job.status).toBe("COMPLETED");
    }
    const stored = await db.agentJob.findUniqueOrThrow({ where: { id: row.id } });
    expect(stored.output).toEqual({ ok: true });
    expect(stored.error).toBeNull();
  });

  it("bumps seq on every change", async () => {
    const row = await createJob("ENRICHMENT", jobTypes.ENRICHMENT.example);
    const a = await updateJobStatus(row.id, "RUNNING", { attempt: 1 });
    const b = await updateJobStatus(row.id, "FAILED", { error: "boom" });
    expect(a.job.seq > row.seq).toBe(true);
    expect(b.job.seq > a.job.seq).toBe(true);
  });

  it("ends FAILED, with the reason, when the output cannot be stored", async () => {
    const row = await createJob("ENRICHMENT", jobTypes.ENRICHMENT.example);
    await updateJobStatus(row.id, "RUNNING", { attempt: 1 });
    const r = await updateJobStatus(row.id, "COMPLETED", { output: { text: "bad\u0000" } });
    expect(r.job.status).toBe("FAILED");
    expect(r.job.error).toMatch(/output\.text contains a NUL character/);
  });

  it("throws NOT_FOUND for an unknown id", async () => {
    await expect(updateJobStatus("no-such-id", "RUNNING")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("appendJobLogs", () => {
  it("keeps all of 100 concurrent appends, each as a plain object", async () => {
    const row = await createJob("ENRICHMENT", jobTypes.ENRICHMENT.example);
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => appendJobLogs(row.id, [logEntry("info", `entry ${i}`, { data: { i } })])),
    );
    const stored = await db.agentJob.findUniqueOrThrow({ where: { id: row.id } });
    expect(stored.logs).toHaveLength(100);
    for (const entry of stored.logs) {
      expect(typeof entry).toBe("object");
      expect(Array.isArray(entry)).toBe(false);
      expect(entry).toMatchObject({ level: "info", message: expect.stringMatching(/^entry \d+$/) });
    }
    const seen = new Set(stored.logs.map((e) => (e as { data: { i: number } }).data.i));
    expect(seen.size).toBe(100);
  });

  it("stores log data jsonb would refuse, made safe", async () => {
    const row = await createJob("ENRICHMENT", jobTypes.ENRICHMENT.example);
    const cyclic: Record<string, unknown> = { name: "nul\u0000here", big: 10n };
    cyclic.self = cyclic;
    await appendJobLogs(row.id, [logEntry("warn", "odd data", { data: cyclic })]);
    const stored = await db.agentJob.findUniqueOrThrow({ where: { id: row.id } });
    expect(stored.logs[0]).toMatchObject({ data: { name: "nul\uFFFDhere", big: "10", self: "[Circular]" } });
  });
});
