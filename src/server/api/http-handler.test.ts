import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { Redis } from "ioredis";
import superjson from "superjson";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { jobSummarySelect } from "../../lib/agents/state-manager.ts";
import { closeDb, getDb } from "../../lib/db.ts";
import { getEnv } from "../../lib/env.ts";
import { closeJobChangePublisher } from "../../lib/events/job-change-publisher.ts";
import { getJobEventBus, publishJobChange, type JobChangeEvent } from "../../lib/events/job-events.ts";
import { closeAgentQueue } from "../../lib/queue/agent-queue.ts";
import { createAgentEngineClient } from "../../trpc/client.ts";
import { handleTRPCRequest } from "./http-handler.ts";

const db = getDb();
const env = getEnv();
const bus = getJobEventBus();
let publisher: Redis;
let server: Server;
let baseUrl: string;

const validResearch = { topic: "Queues", sources: [{ text: "Jobs wait in a queue. Workers run them." }] };

async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What Next.js does for a route handler: Node request -> fetch Request -> Response -> Node response. */
function serveHandler(): Promise<Server> {
  const srv = createServer((req, res) => {
    const controller = new AbortController();
    res.on("close", () => controller.abort());
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(new URL(req.url ?? "/", "http://localhost"), {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined,
      signal: controller.signal,
      ...(hasBody ? { duplex: "half" } : {}),
    } as RequestInit);
    void handleTRPCRequest(request).then(async (response) => {
      res.writeHead(response.status, Object.fromEntries(response.headers));
      if (!response.body) return res.end();
      const reader = response.body.getReader();
      res.on("close", () => void reader.cancel().catch(() => {}));
      try {
        for (let r = await reader.read(); !r.done; r = await reader.read()) res.write(r.value);
      } catch {
        // client went away
      }
      res.end();
    });
  });
  return new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve(srv)));
}

function trpcUrl(path: string, input?: unknown): string {
  const query = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(superjson.serialize(input)))}`;
  return `${baseUrl}/api/trpc/${path}${query}`;
}

type ErrorShape = {
  message: string;
  data: { code: string; httpStatus: number; fieldErrors?: Record<string, string[]> };
};

/** The wire format: `{ error: superjson.serialize(shape) }`. */
async function errorOf(response: Response): Promise<ErrorShape> {
  const body = (await response.json()) as { error: Parameters<typeof superjson.deserialize>[0] };
  return superjson.deserialize<ErrorShape>(body.error);
}

beforeAll(async () => {
  publisher = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
  server = await serveHandler();
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  publisher?.disconnect();
  await closeJobChangePublisher();
  await closeAgentQueue();
  await closeDb();
});

beforeEach(async () => {
  await db.agentJob.deleteMany();
});

describe("the HTTP endpoint", () => {
  it("maps errors to HTTP statuses with field-level messages in error.data.fieldErrors", async () => {
    const invalid = await fetch(trpcUrl("job.create"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(superjson.serialize({ type: "RESEARCH", input: { topic: "x" } })),
    });
    expect(invalid.status).toBe(400);
    const createError = await errorOf(invalid);
    expect(createError.data.code).toBe("BAD_REQUEST");
    expect(createError.data.fieldErrors?.["input.sources"]?.length).toBeGreaterThan(0);
    expect(await db.agentJob.count()).toBe(0);

    const badLimit = await fetch(trpcUrl("job.list", { limit: 500 }));
    expect(badLimit.status).toBe(400);
    const listError = await errorOf(badLimit);
    expect(Object.keys(listError.data.fieldErrors ?? {})).toEqual(["limit"]);
    expect(listError.message).toMatch(/^Invalid input: limit: /);

    const missing = await fetch(trpcUrl("job.byId", { id: "nope" }));
    expect(missing.status).toBe(404);

    const tooLarge = await fetch(trpcUrl("job.create"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(superjson.serialize({ type: "RESEARCH", input: { topic: "x".repeat(300 * 1024) } })),
    });
    expect(tooLarge.status).toBe(413);
  });

  it("streams job.onChange as server-sent events that proxies must not buffer, and ends it when the client leaves", async () => {
    const job = await db.agentJob.create({
      data: { type: "RESEARCH", input: validResearch },
      select: jobSummarySelect,
    });
    const listenersBefore = bus.listenerCount;
    const controller = new AbortController();
    const response = await fetch(trpcUrl("job.onChange", { jobId: job.id }), { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(response.headers.get("x-accel-buffering")).toBe("no");
    expect(response.headers.get("content-encoding")).toBeNull();

    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const readUntil = async (pattern: RegExp, timeoutMs = 5000) => {
      const timer = setTimeout(() => void reader.cancel(), timeoutMs);
      try {
        while (!pattern.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended or timed out before ${pattern}; got ${JSON.stringify(text)}`);
          text += value;
        }
      } finally {
        clearTimeout(timer);
      }
    };
    // "connected" is sent only after Redis confirmed the subscription: publishing now is safe.
    await readUntil(/event: connected\n/);
    expect(bus.listenerCount).toBe(listenersBefore + 1);

    const updated = await db.agentJob.update({
      where: { id: job.id },
      data: { status: "RUNNING" },
      select: jobSummarySelect,
    });
    const published = Date.now();
    await publishJobChange(publisher, env.QUEUE_PREFIX, { kind: "active", job: updated });
    await readUntil(new RegExp(`id: ${updated.seq}\\n`));
    expect(Date.now() - published).toBeLessThan(1000);
    const dataLine = text.split("\n").find((line) => line.startsWith("data: ") && line.includes(job.id));
    const event = superjson.deserialize<JobChangeEvent>(JSON.parse(dataLine!.slice("data: ".length)));
    expect(event.kind).toBe("active");
    expect(event.job.status).toBe("RUNNING");
    expect(event.job.seq).toBe(updated.seq);

    controller.abort();
    await waitFor("the server to drop the subscription", () => bus.listenerCount === listenersBefore);
  });
});

describe("createAgentEngineClient", () => {
  it("calls queries and mutations, and receives subscription events in Node 20 (no global EventSource)", async () => {
    const client = createAgentEngineClient(baseUrl);
    const created = await client.job.create.mutate({ type: "RESEARCH", input: validResearch });
    expect(created.status).toBe("PENDING");
    const page = await client.job.list.query({ limit: 5 });
    expect(page.items.map((j) => j.id)).toEqual([created.id]);
    expect(typeof page.items[0]!.seq).toBe("bigint");
    const [stats, detail] = await Promise.all([client.job.stats.query(), client.job.byId.query({ id: created.id })]);
    expect(stats.counts.PENDING).toBe(1);
    expect(detail.input).toMatchObject(validResearch);

    const listenersBefore = bus.listenerCount;
    const received: { id: string; event: JobChangeEvent }[] = [];
    let started = false;
    const subscription = client.job.onChange.subscribe(
      { jobId: created.id },
      {
        onStarted: () => void (started = true),
        onData: ({ id, data }) => void received.push({ id, event: data }),
      },
    );
    try {
      await waitFor("the subscription to start", () => started);
      const cancelled = await client.job.cancel.mutate({ id: created.id });
      await waitFor("the cancel event", () => received.some((r) => r.id === String(cancelled.seq)));
      expect(received.at(-1)?.event.job.status).toBe("FAILED");
    } finally {
      subscription.unsubscribe();
    }
    await waitFor("the server to drop the subscription", () => bus.listenerCount === listenersBefore);
  });
  it("refuses an oversized body while it arrives, declared or streamed, and bad text in ids with 400", async () => {
    for (const id of ["a\u0000b", "a\ud800b"]) {
      const res = await fetch(trpcUrl("job.byId", { id }));
      expect(res.status).toBe(400);
    }
    const farEvent = await fetch(
      trpcUrl("job.list", { cursor: Buffer.from(JSON.stringify([-62198755200001, "a"])).toString("base64url") }),
    );
    expect(farEvent.status).toBe(400);

    // Refused bodies are not read to the end, which leaves those connections unusable: this test runs last.
    const huge = JSON.stringify(
      superjson.serialize({ type: "RESEARCH", input: { topic: "y".repeat(3 * 1024 * 1024) } }),
    );
    const declared = await fetch(trpcUrl("job.create"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: huge,
    });
    expect(declared.status).toBe(413);
    expect((await declared.json()).error.json.data.code).toBe("PAYLOAD_TOO_LARGE");
    const streamed = await fetch(trpcUrl("job.create"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Readable.toWeb(
        Readable.from([huge.slice(0, huge.length / 2), huge.slice(huge.length / 2)]),
      ) as ReadableStream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);

    expect(await db.agentJob.count()).toBe(0);
  });
});
