/**
 * Throwaway Redis and PostgreSQL servers for the fault suite: each runs as a child process on a
 * spare port with its files under /tmp, so a scenario can stop, kill or flush it without touching
 * the shared services on 6379 and 5432 that other tests use.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import pg from "pg";

export const REDIS_SERVER = process.env.FAULTS_REDIS_SERVER ?? "/usr/bin/redis-server";
export const PG_BIN = process.env.FAULTS_PG_BIN ?? "/usr/lib/postgresql/15/bin";

/** Everything the suite started, so even an interrupted run leaves no process or directory behind. */
const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();
process.on("exit", () => {
  for (const child of liveChildren) child.kill("SIGKILL");
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

export function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
}

function makeTempDir(label: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `ae-faults-${label}-`));
  tempDirs.add(dir);
  return dir;
}

function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** A port nothing listens on right now (the OS picks it). */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Polls `probe` until it resolves true; throws `what` once `timeoutMs` has passed. */
export async function waitUntil(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await probe();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Sends `signal`, waits up to `timeoutMs` for the exit, then SIGKILLs. Resolves once the process is gone. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = sleep(timeoutMs).then(() => "timeout" as const);
  if ((await Promise.race([exited.then(() => "exited" as const), timer])) === "timeout") {
    child.kill("SIGKILL");
    await Promise.race([exited, sleep(5000)]);
  }
}

export type ThrowawayRedis = {
  port: number;
  url: string;
  /** Output of the server, for diagnosing a failed scenario. */
  lines: string[];
  isRunning: () => boolean;
  /** Starts the server on the same port (it comes back empty: no persistence). */
  start: () => Promise<void>;
  /** Stops the server (SIGTERM, then SIGKILL). */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
  flushAll: () => Promise<void>;
  /** SIGSTOP / SIGCONT: the server keeps its sockets open but stops answering (a hung host, not a refused one). */
  freeze: () => void;
  thaw: () => void;
  /** Stops the server for good; safe to call more than once. */
  destroy: () => Promise<void>;
};

export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const port = await getFreePort();
  const dir = makeTempDir("redis");
  const url = `redis://127.0.0.1:${port}`;
  const lines: string[] = [];
  let child: ChildProcess | undefined;

  const ping = async () => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
    client.on("error", () => {});
    try {
      await client.connect();
      return (await client.ping()) === "PONG";
    } finally {
      client.disconnect();
    }
  };

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const proc = spawn(
      REDIS_SERVER,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    trackChild(proc);
    child = proc;
    for (const stream of [proc.stdout!, proc.stderr!]) {
      stream.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
    }
    await waitUntil(async () => {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}: ${lines.slice(-3).join(" | ")}`);
      return ping();
    }, 10_000, `redis-server on port ${port}`);
  };

  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child) await stopChild(child, signal);
  };

  await start();
  return {
    port,
    url,
    lines,
    isRunning: () => !!child && child.exitCode === null && child.signalCode === null,
    start,
    stop,
    freeze: () => void child?.kill("SIGSTOP"),
    thaw: () => void child?.kill("SIGCONT"),
    flushAll: async () => {
      const client = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    destroy: async () => {
      child?.kill("SIGCONT");
      await stop("SIGKILL");
      removeTempDir(dir);
    },
  };
}

export type ThrowawayPostgres = {
  port: number;
  /** URL of the `postgres` database (migrate() creates others on it). */
  serverUrl: string;
  lines: string[];
  start: () => Promise<void>;
  /** Fast shutdown (SIGINT): open sessions are terminated, as when an operator stops the server. */
  stop: () => Promise<void>;
  destroy: () => Promise<void>;
};

/** The OS user PostgreSQL runs as: `postgres` when we are root (initdb refuses root), else ourselves. */
function postgresOsUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
  const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error("no `postgres` OS user to run a throwaway PostgreSQL as");
  return { uid, gid };
}

/**
 * A new PostgreSQL 15 cluster (initdb) in a /tmp directory, served by a `postgres` child process on
 * a spare port; trust auth for the `postgres` role, durability settings off for speed.
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const port = await getFreePort();
  const user = postgresOsUser();
  const root = makeTempDir("pg");
  const dataDir = path.join(root, "data");
  const socketDir = root;
  if (user.uid !== undefined) chownSync(root, user.uid, user.gid!);
  const env: NodeJS.ProcessEnv = { NODE_ENV: "test", PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C", LANG: "C" };
  const lines: string[] = [];

  const init = spawnSync(
    path.join(PG_BIN, "initdb"),
    ["-D", dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"],
    { ...user, env, cwd: root, encoding: "utf8", timeout: 60_000 },
  );
  if (init.status !== 0) {
    removeTempDir(root);
    throw new Error(`initdb failed (${init.status ?? init.signal}): ${(init.stderr || init.stdout || "").trim().slice(-500)}`);
  }

  const serverUrl = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const proc = spawn(
      path.join(PG_BIN, "postgres"),
      [
        "-D", dataDir, "-p", String(port), "-k", socketDir,
        "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
        "-c", "full_page_writes=off", "-c", "max_connections=200",
      ],
      { ...user, env, cwd: root, stdio: ["ignore", "pipe", "pipe"] },
    );
    trackChild(proc);
    child = proc;
    for (const stream of [proc.stdout!, proc.stderr!]) {
      stream.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
    }
    await waitUntil(async () => {
      if (proc.exitCode !== null) throw new Error(`postgres exited with ${proc.exitCode}: ${lines.slice(-3).join(" | ")}`);
      const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 1000 });
      client.on("error", () => {});
      try {
        await client.connect();
        await client.query("SELECT 1");
        return true;
      } finally {
        await client.end().catch(() => {});
      }
    }, 30_000, `postgres on port ${port}`, 100);
  };

  const stop = async () => {
    if (child) await stopChild(child, "SIGINT", 15_000);
  };

  await start().catch(async (err: unknown) => {
    await stop();
    removeTempDir(root);
    throw err;
  });
  return {
    port,
    serverUrl,
    lines,
    start,
    stop,
    destroy: async () => {
      if (child) await stopChild(child, "SIGQUIT", 5000);
      removeTempDir(root);
    },
  };
}
