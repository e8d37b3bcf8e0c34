/**
 * The fault suite's plumbing: a scope per scenario whose cleanups always run (LIFO, each bounded),
 * worker child processes with captured output, a per-scenario stack (database, queue prefix,
 * producer queue, side-effect counters), and bounded waits. Nothing here can wait forever.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Queue } from "bullmq";
import { Redis } from "ioredis";
import type { AgentJobStatus } from "../../src/generated/prisma/enums.ts";
import { createDb, type Db } from "../../src/lib/db.ts";
import { createAgentQueue } from "../../src/lib/queue/agent-queue.ts";
import { createProducerConnection } from "../../src/lib/redis.ts";
import { createTestDatabase, deleteQueuePrefix, uniqueName } from "../../src/test-support/test-database.ts";
import { migrate } from "../migrate.ts";
import { stopChild, trackChild, type ThrowawayPostgres, type ThrowawayRedis } from "./services.ts";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const sharedRedisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const verbose = process.env.FAULTS_VERBOSE === "1";

export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckFailed";
  }
}

export type Scope = {
  name: string;
  /** Registers a cleanup; cleanups run in reverse order when the scenario ends, whatever happened. */
  defer: (label: string, fn: () => Promise<unknown> | unknown) => void;
  /** Prints one line of the scenario's outcome. */
  say: (line: string) => void;
  /** Throws CheckFailed with `message` unless `condition` holds. */
  check: (condition: unknown, message: string) => asserts condition;
  workers: WorkerProcess[];
};

export function createScope(name: string): Scope & { runCleanups: () => Promise<string[]> } {
  const cleanups: { label: string; fn: () => Promise<unknown> | unknown }[] = [];
  const workers: WorkerProcess[] = [];
  return {
    name,
    workers,
    defer: (label, fn) => void cleanups.push({ label, fn }),
    say: (line) => console.log(`    ${line}`),
    check: (condition, message) => {
      if (!condition) throw new CheckFailed(message);
    },
    runCleanups: async () => {
      const problems: string[] = [];
      while (cleanups.length) {
        const { label, fn } = cleanups.pop()!;
        try {
          const outcome = await Promise.race([
            Promise.resolve().then(fn).then(() => "ok" as const),
            sleep(20_000).then(() => "timeout" as const),
          ]);
          if (outcome === "timeout") problems.push(`${label}: timed out`);
        } catch (err) {
          problems.push(`${label}: ${(err as Error).message}`);
        }
      }
      return problems;
    },
  };
}

export type WorkerProcess = {
  label: string;
  pid: number;
  child: ChildProcess;
  /** Every line it printed (stdout and stderr). */
  lines: string[];
  alive: () => boolean;
  /** Resolves with the first line (already printed or to come) matching `pattern`. */
  waitForLine: (pattern: RegExp, timeoutMs: number) => Promise<string>;
  /** Resolves when the process exits, with its code/signal and ms since `since` (default: now). */
  waitExit: (timeoutMs: number, since?: number) => Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  kill: (signal: NodeJS.Signals) => void;
};

export type WorkerKind = "real" | "fault";

/** The tuned intervals every spawned worker gets unless a scenario overrides them. */
export const fastWorkerEnv = {
  WORKER_CONCURRENCY: "10",
  WORKER_LOCK_DURATION_MS: "2000",
  WORKER_STALLED_INTERVAL_MS: "1000",
  WORKER_MAX_STALLED_COUNT: "1",
  SHUTDOWN_GRACE_MS: "3000",
  RECONCILE_GRACE_MS: "1000",
  RECONCILE_INTERVAL_MS: "1000",
  ENQUEUE_TIMEOUT_MS: "2000",
  DATABASE_POOL_SIZE: "10",
};

export type Stack = {
  db: Db;
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  /** The producer queue this (test) process enqueues through, like the API does. */
  queue: Queue;
  /** Side-effect counters the fault worker writes (shared Redis, keys under `prefix`). */
  counters: Redis;
  counterKey: (...parts: string[]) => string;
  startWorker: (opts: { kind: WorkerKind; label: string; env?: Record<string, string> }) => Promise<WorkerProcess>;
};

/**
 * A database (fresh on the shared server, or on a throwaway PostgreSQL) and a unique queue prefix
 * (on the shared Redis or a throwaway one), with cleanups registered on `scope`.
 */
export async function createStack(scope: Scope, opts: { redis?: ThrowawayRedis; postgres?: ThrowawayPostgres } = {}): Promise<Stack> {
  const prefix = uniqueName("faults");
  const redisUrl = opts.redis?.url ?? sharedRedisUrl;

  let databaseUrl: string;
  if (opts.postgres) {
    const url = new URL(opts.postgres.serverUrl);
    url.pathname = "/faults";
    databaseUrl = url.toString();
    await migrate(databaseUrl);
  } else {
    const created = await createTestDatabase("faults");
    databaseUrl = created.url;
    scope.defer("drop test database", () => created.drop());
  }
  scope.defer("delete Redis keys", async () => {
    await deleteQueuePrefix(sharedRedisUrl, prefix);
    if (opts.redis?.isRunning()) await deleteQueuePrefix(redisUrl, prefix).catch(() => {});
  });

  const db = createDb(databaseUrl, 20);
  scope.defer("close database client", () => db.$disconnect());
  const producer = createProducerConnection(redisUrl);
  const queue = createAgentQueue({ connection: producer, prefix });
  scope.defer("close queue", async () => {
    await Promise.race([queue.close(), sleep(3000)]);
    producer.disconnect();
  });
  const counters = new Redis(sharedRedisUrl, { maxRetriesPerRequest: 2 });
  counters.on("error", () => {});
  scope.defer("close counters", () => counters.disconnect());

  const startWorker: Stack["startWorker"] = async ({ kind, label, env = {} }) => {
    const entry = kind === "real" ? "worker/index.ts" : "scripts/faults/fault-worker.ts";
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, entry)], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: "test",
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        FAULT_COUNTER_REDIS_URL: sharedRedisUrl,
        FAULT_COUNTER_PREFIX: prefix,
        FAULT_WORKER_LABEL: label,
        ...fastWorkerEnv,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    trackChild(child);
    const worker = wrapWorker(label, child);
    scope.workers.push(worker);
    scope.defer(`stop worker ${label}`, () => stopChild(child, "SIGKILL", 5000));
    await worker.waitForLine(/\[worker\] .* started:/, 30_000);
    return worker;
  };

  return { db, databaseUrl, redisUrl, prefix, queue, counters, counterKey: (...parts) => [prefix, ...parts].join(":"), startWorker };
}

function wrapWorker(label: string, child: ChildProcess): WorkerProcess {
  const lines: string[] = [];
  const watchers = new Set<{ pattern: RegExp; resolve: (line: string) => void; reject: (err: Error) => void }>();
  let exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  const exitWaiters = new Set<() => void>();
  child.once("exit", (code, signal) => {
    exit = { code, signal, at: Date.now() };
    for (const w of exitWaiters) w();
    // Let the last output arrive, then fail whoever still waits for a line that can no longer come.
    setTimeout(() => {
      for (const w of watchers) w.reject(new CheckFailed(`worker ${label} exited (${code ?? signal}) before printing a line matching ${w.pattern}`));
      watchers.clear();
    }, 200);
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = "";
    stream.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        if (verbose) console.log(`      [${label}] ${line}`);
        for (const w of watchers) {
          if (w.pattern.test(line)) {
            watchers.delete(w);
            w.resolve(line);
          }
        }
      }
    });
  }
  return {
    label,
    pid: child.pid!,
    child,
    lines,
    alive: () => !exit,
    waitForLine: (pattern, timeoutMs) => {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      if (exit) return Promise.reject(new CheckFailed(`worker ${label} exited (${exit.code ?? exit.signal}) without printing a line matching ${pattern}`));
      return new Promise((resolve, reject) => {
        const watcher = {
          pattern,
          resolve: (line: string) => (clearTimeout(timer), resolve(line)),
          reject: (err: Error) => (clearTimeout(timer), reject(err)),
        };
        const timer = setTimeout(() => {
          watchers.delete(watcher);
          reject(new CheckFailed(`worker ${label} printed no line matching ${pattern} within ${timeoutMs} ms${exit ? ` (it exited: ${exit.code ?? exit.signal})` : ""}`));
        }, timeoutMs);
        watchers.add(watcher);
      });
    },
    waitExit: (timeoutMs, since = Date.now()) =>
      new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          exitWaiters.delete(done);
          resolve({ code: exit!.code, signal: exit!.signal, ms: exit!.at - since });
        };
        const timer = setTimeout(() => {
          exitWaiters.delete(done);
          reject(new CheckFailed(`worker ${label} did not exit within ${timeoutMs} ms`));
        }, timeoutMs);
        if (exit) done();
        else exitWaiters.add(done);
      }),
    kill: (signal) => void child.kill(signal),
  };
}

export type JobRow = Awaited<ReturnType<Db["agentJob"]["findMany"]>>[number];
const terminal: AgentJobStatus[] = ["COMPLETED", "FAILED"];

/** Polls the rows until `done(row)` holds for every id; throws after `timeoutMs` saying how many did not. */
export async function waitForRows(db: Db, ids: string[], done: (row: JobRow) => boolean, timeoutMs: number, what: string): Promise<JobRow[]> {
  const deadline = Date.now() + timeoutMs;
  let rows: JobRow[] = [];
  for (;;) {
    try {
      rows = [];
      for (let i = 0; i < ids.length; i += 1000) {
        rows.push(...(await db.agentJob.findMany({ where: { id: { in: ids.slice(i, i + 1000) } } })));
      }
      if (rows.length === ids.length && rows.every(done)) return rows;
    } catch {
      // The database may be the thing that is down; keep polling until the deadline.
    }
    if (Date.now() >= deadline) {
      const waiting = rows.filter((r) => !done(r));
      const byStatus = countBy(waiting.map((r) => r.status));
      throw new CheckFailed(
        `timed out after ${timeoutMs} ms waiting for ${what}: ${waiting.length + ids.length - rows.length} of ${ids.length} not there (${JSON.stringify(byStatus)})`,
      );
    }
    await sleep(ids.length > 100 ? 250 : 50);
  }
}

export const waitForFinished = (db: Db, ids: string[], timeoutMs: number) =>
  waitForRows(db, ids, (r) => terminal.includes(r.status), timeoutMs, "COMPLETED/FAILED");

export async function waitForStatus(db: Db, id: string, status: AgentJobStatus, timeoutMs: number): Promise<JobRow> {
  const [row] = await waitForRows(db, [id], (r) => r.status === status, timeoutMs, `job ${id} to be ${status}`);
  return row!;
}

export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() >= deadline) throw new CheckFailed(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

export function messages(row: { logs: unknown[] }): string[] {
  return row.logs.map((l) => String((l as { message?: unknown }).message));
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Reads a numeric counter per job id (missing = 0). */
export async function readCounts(stack: Stack, name: string, ids: string[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const values = await stack.counters.mget(...ids.slice(i, i + 500).map((id) => stack.counterKey(name, id)));
    out.push(...values.map((v) => Number(v ?? 0)));
  }
  return out;
}
