import { isTrackedEnvelope, TRPCError } from "@trpc/server";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AgentJobStatus, AgentJobType } from "../../../generated/prisma/enums.ts";
import { getJobChangeCursor } from "../../../lib/agents/job-queries.ts";
import { jobSummarySelect, validateJobInput, type JobSummary } from "../../../lib/agents/state-manager.ts";
import { closeDb, getDb } from "../../../lib/db.ts";
import { getEnv } from "../../../lib/env.ts";
import { isAgentEngineError } from "../../../lib/errors.ts";
import { closeJobChangePublisher } from "../../../lib/events/job-change-publisher.ts";
import { getJobEventBus, publishJobChange, type JobChangeEvent } from "../../../lib/events/job-events.ts";
import { closeAgentQueue } from "../../../lib/queue/agent-queue.ts";
import { createCaller } from "../root.ts";
import { createTRPCContext } from "../trpc.ts";

const db = getDb();
const env = getEnv();
const bus = getJobEventBus();
const caller = createCaller(createTRPCContext());
let publisher: Redis;
/** Every event the bus delivered in this process, to know when a publish has arrived. */
const seenOnBus: JobChangeEvent[] = [];
let stopWatchingBus: () => void;

const validResearch = { topic: "Queues", sources: [{ text: "Jobs wait in a queue. Workers run them." }] };

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function snapshot(id: string): Promise<JobSummary> {
  return db.agentJob.findUniqueOrThrow({ where: { id }, select: jobSummarySelect });
}

/** What the worker's forwarder does after a BullMQ event: publish the row as the database has it. */
async function publishRow(id: string, kind: JobChangeEvent["kind"] = "progress"): Promise<JobSummary> {
  const job = await snapshot(id);
  await publish({ kind, job });
  return job;
}

async function publish(event: JobChangeEvent): Promise<void> {
  const before = seenOnBus.length;
  await publishJobChange(publisher, env.QUEUE_PREFIX, event);
  await waitFor("the event to come back from Redis", () => seenOnBus.length > before);
}

/**
 * job.create, then wait until its own "added" announcement has come back from Redis, so that a
 * subscription opened afterwards does not receive it.
 */
async function createSettled(type: string = "RESEARCH", input: unknown = validResearch) {
  const job = await caller.job.create({ type, input });
  await waitFor("the create announcement", () => seenOnBus.some((e) => e.job.id === job.id && e.job.seq === job.seq));
  return job;
}

async function insertJobs(rows: { type: AgentJobType; status: AgentJobStatus; createdAt: Date }[]): Promise<void> {
  await db.agentJob.createMany({ data: rows.map((r) => ({ ...r, input: {} })) });
}

async function expectTRPCError(promise: Promise<unknown>, code: TRPCError["code"]): Promise<TRPCError> {
  const err = await promise.then(
    () => {
      throw new Error(`Expected ${code}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  expect((err as TRPCError).code).toBe(code);
  return err as TRPCError;
}

type Received = { id: string; event: JobChangeEvent };

/** Opens job.onChange through createCaller, as the SSE endpoint does, and pulls events on demand. */
async function openSubscription(input: { lastEventId?: string | null; jobId?: string } = {}) {
  const controller = new AbortController();
  const subscriptionCaller = createCaller(createTRPCContext(), { signal: controller.signal });
  const listenersBefore = bus.listenerCount;
  const iterable = await subscriptionCaller.job.onChange(input);
  // Resolved only once Redis confirmed the subscription.
  expect(bus.listenerCount).toBe(listenersBefore + 1);
  const iterator = iterable[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<unknown>> | undefined;

  const take = async (timeoutMs = 3000): Promise<Received | null> => {
    pending ??= iterator.next();
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), timeoutMs));
    const result = await Promise.race([pending, timeout]);
    if (result === "timeout") return null; // keep `pending` for the next call
    pending = undefined;
    if (result.done) throw new Error("subscription ended");
    if (!isTrackedEnvelope<JobChangeEvent>(result.value)) throw new Error("expected a tracked() event");
    const [id, event] = result.value;
    return { id, event };
  };
  const takeN = async (n: number): Promise<Received[]> => {
    const out: Received[] = [];
    for (let i = 0; i < n; i++) {
      const r = await take();
      if (!r) throw new Error(`expected ${n} events, got ${out.length}`);
      out.push(r);
    }
    return out;
  };
  return { controller, iterator, take, takeN, close: () => controller.abort() };
}

beforeAll(async () => {
  publisher = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
  // Holding one listener keeps the shared Redis subscriber open and confirmed for the whole file.
  stopWatchingBus = await bus.subscribe((event) => seenOnBus.push(event));
});

afterAll(async () => {
  stopWatchingBus?.();
  publisher?.disconnect();
  await closeJobChangePublisher();
  await closeAgentQueue();
  await closeDb();
});

beforeEach(async () => {
  await db.agentJob.deleteMany();
});

describe("job.create", () => {
  it("stores a valid job and returns it", async () => {
    const job = await caller.job.create({ type: "RESEARCH", input: validResearch });
    expect(job.status).toBe("PENDING");
    expect(job.type).toBe("RESEARCH");
    const row = await db.agentJob.findUnique({ where: { id: job.id } });
    expect(row?.input).toMatchObject(validResearch);
    expect(row?.maxAttempts).toBe(3);
  });

  it("refuses invalid input with BAD_REQUEST, a message per field, and writes nothing", async () => {
    const err = await expectTRPCError(
      caller.job.create({ type: "RESEARCH", input: { topic: "", sources: [] } }),
      "BAD_REQUEST",
    );
    expect(isAgentEngineError(err.cause)).toBe(true);
    const fieldErrors = isAgentEngineError(err.cause) ? err.cause.fieldErrors : undefined;
    expect(Object.keys(fieldErrors ?? {}).sort()).toEqual(["input.sources", "input.topic"]);
    expect(await db.agentJob.count()).toBe(0);
  });

  it("refuses an unknown type with BAD_REQUEST on the type field", async () => {
    const err = await expectTRPCError(caller.job.create({ type: "TELEPORT", input: {} }), "BAD_REQUEST");
    expect(isAgentEngineError(err.cause) && err.cause.fieldErrors?.type?.length).toBeTruthy();
    expect(await db.agentJob.count()).toBe(0);
  });

  it("returns the same job for the same idempotency key", async () => {
    const a = await caller.job.create({ type: "RESEARCH", input: validResearch, idempotencyKey: "k-1" });
    const b = await caller.job.create({ type: "RESEARCH", input: validResearch, idempotencyKey: "k-1" });
    expect(b.id).toBe(a.id);
    expect(await db.agentJob.count()).toBe(1);
  });
});

describe("job.list", () => {
  const statuses: AgentJobStatus[] = ["PENDING", "RUNNING", "COMPLETED", "FAILED"];
  const types: AgentJobType[] = ["RESEARCH", "OUTREACH", "ENRICHMENT"];

  beforeEach(async () => {
    const base = Date.UTC(2026, 0, 1);
    // 70 rows; every third shares its createdAt with the previous one, so ties need the id order.
    await insertJobs(
      Array.from({ length: 70 }, (_, i) => ({
        type: types[i % 3]!,
        status: statuses[(i * 7) % 4]!,
        createdAt: new Date(base + Math.floor((i * 2) / 3) * 1000),
      })),
    );
  });

  async function pageThrough(filter: { status?: AgentJobStatus; type?: AgentJobType }, limit: number) {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await caller.job.list({ ...filter, cursor, limit });
      expect(page.items.length).toBeLessThanOrEqual(limit);
      ids.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    return { ids, pages };
  }

  async function expected(filter: { status?: AgentJobStatus; type?: AgentJobType }) {
    const rows = await db.agentJob.findMany({ where: filter, select: { id: true, createdAt: true } });
    return rows
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .map((r) => r.id);
  }

  it.each([
    [{}, 7],
    [{}, 25],
    [{ status: "PENDING" as const }, 4],
    [{ type: "OUTREACH" as const }, 5],
    [{ status: "FAILED" as const, type: "ENRICHMENT" as const }, 2],
  ])("pages through %o (limit %i) newest first, each row exactly once", async (filter, limit) => {
    const want = await expected(filter);
    expect(want.length).toBeGreaterThan(0);
    const { ids, pages } = await pageThrough(filter, limit);
    expect(ids).toEqual(want);
    expect(new Set(ids).size).toBe(ids.length);
    expect(pages).toBe(Math.max(1, Math.ceil(want.length / limit)));
  });

  it("covers more than 50 rows with the default page size", async () => {
    const first = await caller.job.list();
    expect(first.items).toHaveLength(25);
    const { ids } = await pageThrough({}, 25);
    expect(ids).toHaveLength(70);
  });

  it("returns an empty page and no cursor when nothing matches", async () => {
    await db.agentJob.deleteMany();
    expect(await caller.job.list({ status: "RUNNING" })).toEqual({ items: [], nextCursor: null });
  });

  it("refuses a malformed cursor and an out-of-range limit with BAD_REQUEST", async () => {
    const bad = await expectTRPCError(caller.job.list({ cursor: "not-a-cursor" }), "BAD_REQUEST");
    expect(isAgentEngineError(bad.cause) && bad.cause.fieldErrors?.cursor).toBeTruthy();
    await expectTRPCError(caller.job.list({ cursor: Buffer.from('["x",1]').toString("base64url") }), "BAD_REQUEST");
    await expectTRPCError(caller.job.list({ limit: 101 }), "BAD_REQUEST");
    await expectTRPCError(caller.job.list({ limit: 0 }), "BAD_REQUEST");
  });
});

describe("job.byId, job.stats, job.types", () => {
  it("returns a job with its input and logs", async () => {
    const created = await caller.job.create({ type: "RESEARCH", input: validResearch });
    await db.agentJob.update({ where: { id: created.id }, data: { logs: { push: { at: "t", level: "info", message: "hello" } } } });
    const job = await caller.job.byId({ id: created.id });
    expect(job.input).toMatchObject(validResearch);
    expect(job.logs).toEqual([{ at: "t", level: "info", message: "hello" }]);
  });

  it("reports NOT_FOUND for an unknown id", async () => {
    await expectTRPCError(caller.job.byId({ id: "00000000-0000-0000-0000-000000000000" }), "NOT_FOUND");
  });

  it("counts jobs per status, zeros included", async () => {
    expect(await caller.job.stats()).toEqual({
      counts: { PENDING: 0, RUNNING: 0, COMPLETED: 0, FAILED: 0 },
      total: 0,
    });
    const now = new Date();
    await insertJobs([
      { type: "RESEARCH", status: "PENDING", createdAt: now },
      { type: "RESEARCH", status: "PENDING", createdAt: now },
      { type: "OUTREACH", status: "COMPLETED", createdAt: now },
    ]);
    expect(await caller.job.stats()).toEqual({
      counts: { PENDING: 2, RUNNING: 0, COMPLETED: 1, FAILED: 0 },
      total: 3,
    });
  });

  it("lists every job type with a valid example", async () => {
    const types = await caller.job.types();
    expect(types.map((t) => t.type).sort()).toEqual(["ENRICHMENT", "OUTREACH", "RESEARCH"]);
    for (const t of types) {
      expect(t.description).toBeTruthy();
      expect(t.attempts).toBeGreaterThan(0);
      expect(t.timeoutMs).toBeGreaterThan(0);
      expect(() => validateJobInput(t.type, t.example)).not.toThrow();
    }
  });
});

describe("job.cancel and job.retry", () => {
  it("cancels a pending job, refuses to cancel it twice, and retries it", async () => {
    const job = await caller.job.create({ type: "RESEARCH", input: validResearch });
    const cancelled = await caller.job.cancel({ id: job.id });
    expect(cancelled.status).toBe("FAILED");
    expect(cancelled.error).toBe("Cancelled by request");
    await expectTRPCError(caller.job.cancel({ id: job.id }), "CONFLICT");

    const retried = await caller.job.retry({ id: job.id });
    expect(retried.status).toBe("PENDING");
    await expectTRPCError(caller.job.retry({ id: job.id }), "CONFLICT");
    await expectTRPCError(caller.job.retry({ id: "no-such-job" }), "NOT_FOUND");
  });

  it("tells live views about the change it made (no BullMQ event reports a cancelled PENDING job)", async () => {
    const job = await createSettled();
    const sub = await openSubscription({ jobId: job.id });
    try {
      const cancelled = await caller.job.cancel({ id: job.id });
      const got = await sub.take();
      expect(got?.event.job.status).toBe("FAILED");
      expect(got?.id).toBe(String(cancelled.seq));
    } finally {
      sub.close();
    }
  });
});

describe("job.onChange", () => {
  it("delivers events published after subscribing, in seq order, without duplicates or stale snapshots", async () => {
    const a = await createSettled();
    const b = await createSettled();
    const sub = await openSubscription();
    try {
      const got: Received[] = [];
      await db.agentJob.update({ where: { id: a.id }, data: { status: "RUNNING", progress: 10 } });
      const a1 = await publishRow(a.id, "active");
      got.push(...(await sub.takeN(1)));
      await db.agentJob.update({ where: { id: b.id }, data: { status: "RUNNING" } });
      const b1 = await publishRow(b.id, "active");
      got.push(...(await sub.takeN(1)));
      await db.agentJob.update({ where: { id: a.id }, data: { progress: 60 } });
      const a2 = await publishRow(a.id, "progress");
      got.push(...(await sub.takeN(1)));
      // Noise the stream must drop: the same change again (a second forwarder) and an old snapshot.
      await publish({ kind: "progress", job: a2 });
      await publish({ kind: "active", job: a1 });
      await db.agentJob.update({ where: { id: b.id }, data: { status: "COMPLETED", progress: 100, output: { ok: true } } });
      const b2 = await publishRow(b.id, "completed");
      got.push(...(await sub.takeN(1)));

      expect(got.map((r) => r.id)).toEqual([a1, b1, a2, b2].map((j) => String(j.seq)));
      expect(got.map((r) => r.event.kind)).toEqual(["active", "active", "progress", "completed"]);
      expect(got[3]!.event.job.status).toBe("COMPLETED");
      expect(await sub.take(300)).toBeNull();
    } finally {
      sub.close();
    }
  });

  it("hands a slow consumer the latest state of each job, in order, never an older one after it", async () => {
    const a = await createSettled();
    const b = await createSettled();
    const sub = await openSubscription();
    try {
      await db.agentJob.update({ where: { id: a.id }, data: { progress: 10 } });
      const a1 = await publishRow(a.id);
      expect((await sub.take())?.id).toBe(String(a1.seq));
      // Now the consumer stops pulling for a while.
      for (const progress of [20, 30, 40]) {
        await db.agentJob.update({ where: { id: b.id }, data: { progress } });
        await publishRow(b.id);
        await db.agentJob.update({ where: { id: a.id }, data: { progress: progress + 1 } });
        await publishRow(a.id);
      }
      await publish({ kind: "progress", job: a1 }); // stale
      const got = await sub.takeN(2);
      expect(got.map((r) => [r.event.job.id, r.event.job.progress])).toEqual([
        [b.id, 40],
        [a.id, 41],
      ]);
      expect(await sub.take(300)).toBeNull();
    } finally {
      sub.close();
    }
  });

  it("filters by jobId", async () => {
    const a = await createSettled();
    const b = await createSettled();
    const sub = await openSubscription({ jobId: b.id });
    try {
      await db.agentJob.update({ where: { id: a.id }, data: { progress: 5 } });
      await publishRow(a.id);
      await db.agentJob.update({ where: { id: b.id }, data: { progress: 7 } });
      const b1 = await publishRow(b.id);
      const got = await sub.take();
      expect(got?.event.job.id).toBe(b.id);
      expect(got?.id).toBe(String(b1.seq));
    } finally {
      sub.close();
    }
  });

  it("on reconnect with lastEventId, delivers exactly the database changes after it, then live ones, nothing twice", async () => {
    const a = await createSettled();
    const b = await createSettled();
    const untouched = await createSettled();
    const lastEventId = await getJobChangeCursor(db);

    // While the client is away: changes nobody publishes (a web server restart, a lost message).
    await db.agentJob.update({ where: { id: a.id }, data: { progress: 20 } });
    await db.agentJob.update({ where: { id: b.id }, data: { progress: 30 } });
    await db.agentJob.update({ where: { id: a.id }, data: { progress: 40 } });
    const c = await createSettled("OUTREACH", { template: "Hi {{firstName}}", contact: { firstName: "Ada", email: "ada@example.com" } });
    const missed = await db.agentJob.findMany({ where: { seq: { gt: BigInt(lastEventId) } }, orderBy: { seq: "asc" }, select: jobSummarySelect });
    expect(missed.map((j) => j.id)).toEqual([b.id, a.id, c.id]);

    const sub = await openSubscription({ lastEventId });
    try {
      const first = await sub.take();
      expect(first?.id).toBe(String(missed[0]!.seq));
      // Between the catch-up query and its last row: the bus repeats a row the catch-up holds
      // (same seq) and reports a newer state of another one.
      await publish({ kind: "progress", job: missed[1]! });
      await db.agentJob.update({ where: { id: c.id }, data: { progress: 1, status: "RUNNING" } });
      const cNewer = await publishRow(c.id, "active");

      const rest = await sub.takeN(2);
      const all = [first!, ...rest];
      expect(all.map((r) => r.event.job.id)).toEqual([b.id, a.id, c.id]);
      expect(all.map((r) => r.id)).toEqual([missed[0]!.seq, missed[1]!.seq, cNewer.seq].map(String));
      expect(all[1]!.event.job.progress).toBe(40);
      expect(all[2]!.event.job.status).toBe("RUNNING");
      expect(all.some((r) => r.event.job.id === untouched.id)).toBe(false);

      // Live after the catch-up, and the catch-up rows are not delivered again.
      await publish({ kind: "progress", job: missed[0]! });
      await db.agentJob.update({ where: { id: b.id }, data: { progress: 90 } });
      const bLive = await publishRow(b.id);
      const live = await sub.take();
      expect(live?.id).toBe(String(bLive.seq));
      expect(await sub.take(300)).toBeNull();
    } finally {
      sub.close();
    }

    // Reconnecting from the last id seen delivers nothing: no change happened since.
    const again = await openSubscription({ lastEventId: await getJobChangeCursor(db) });
    try {
      expect(await again.take(300)).toBeNull();
    } finally {
      again.close();
    }
  });

  it("catches up across more rows than one query returns", async () => {
    const lastEventId = await getJobChangeCursor(db);
    const now = Date.now();
    await insertJobs(Array.from({ length: 1205 }, (_, i) => ({ type: "RESEARCH" as const, status: "PENDING" as const, createdAt: new Date(now + i) })));
    const sub = await openSubscription({ lastEventId });
    try {
      const got = await sub.takeN(1205);
      expect(new Set(got.map((r) => r.event.job.id)).size).toBe(1205);
      const seqs = got.map((r) => BigInt(r.id));
      expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true);
      expect(await sub.take(200)).toBeNull();
    } finally {
      sub.close();
    }
  });

  it("refuses a lastEventId that is not from this feed", async () => {
    await expectTRPCError(caller.job.onChange({ lastEventId: "abc" }), "BAD_REQUEST");
  });

  it("removes its bus listener when the client goes away, however it goes", async () => {
    const start = bus.listenerCount;

    // Aborted while waiting for events (the SSE request closed).
    const subs = [];
    for (let i = 0; i < 5; i++) subs.push(await openSubscription());
    expect(bus.listenerCount).toBe(start + 5);
    for (const s of subs) s.close();
    await waitFor("listeners to be removed after abort", () => bus.listenerCount === start);

    // The consumer stops pulling (return()) while a pull is pending and nothing is published.
    const sub = await openSubscription();
    expect(bus.listenerCount).toBe(start + 1);
    await sub.iterator.return?.();
    expect(bus.listenerCount).toBe(start);

    // Aborted during the catch-up.
    const job = await createSettled();
    const catchingUp = await openSubscription({ lastEventId: "0" });
    expect((await catchingUp.take())?.event.job.id).toBe(job.id);
    catchingUp.close();
    await waitFor("listener to be removed after abort during catch-up", () => bus.listenerCount === start);

    // Aborted before the first pull.
    const controller = new AbortController();
    const unread = await createCaller(createTRPCContext(), { signal: controller.signal }).job.onChange({});
    expect(bus.listenerCount).toBe(start + 1);
    controller.abort();
    expect(bus.listenerCount).toBe(start);
    expect((await unread[Symbol.asyncIterator]().next()).done).toBe(true);

    // Aborted before it was opened: nothing is subscribed.
    const early = new AbortController();
    early.abort();
    const never = await createCaller(createTRPCContext(), { signal: early.signal }).job.onChange({});
    expect(bus.listenerCount).toBe(start);
    expect((await never[Symbol.asyncIterator]().next()).done).toBe(true);
  });
});
