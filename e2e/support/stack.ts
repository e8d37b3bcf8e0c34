import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  getFreePort,
  isAlive,
  pauseProcessGroup,
  repoRoot,
  resumeProcessGroup,
  startProcess,
  stopProcessGroup,
  waitForHttp,
} from "./processes.ts";

/**
 * What global setup started, shared with the tests (which run in other processes) through a file:
 * a spec that restarts the web server records the new pid here so teardown stops the right one.
 */
export type StackState = {
  port: number;
  baseURL: string;
  webPid: number;
  workerPid: number;
  databaseUrl: string;
  databaseName: string;
  redisUrl: string;
  queuePrefix: string;
};

export const stateFile = path.join(repoRoot, ".tmp", "e2e-stack.json");

export function readStackState(): StackState {
  if (!existsSync(stateFile)) throw new Error(`${stateFile} is missing: run the tests through playwright.config.ts`);
  return JSON.parse(readFileSync(stateFile, "utf8")) as StackState;
}

export function writeStackState(state: StackState): void {
  mkdirSync(path.dirname(stateFile), { recursive: true });
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
}

/** The environment the app and the worker share: the run's database, Redis and queue prefix. */
export function stackEnv(state: Pick<StackState, "databaseUrl" | "redisUrl" | "queuePrefix">): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: state.databaseUrl,
    REDIS_URL: state.redisUrl,
    QUEUE_PREFIX: state.queuePrefix,
    NEXT_TELEMETRY_DISABLED: "1",
  };
}

export async function startWebServer(
  state: Pick<StackState, "port" | "databaseUrl" | "redisUrl" | "queuePrefix">,
  logName = "web",
): Promise<number> {
  const next = path.join(repoRoot, "node_modules", "next", "dist", "bin", "next");
  const child = startProcess(
    logName,
    process.execPath,
    [next, "start", "--port", String(state.port), "--hostname", "127.0.0.1"],
    {
      ...stackEnv(state),
      NODE_ENV: "production",
    },
  );
  await waitForHttp(`http://127.0.0.1:${state.port}/dashboard/agents/jobs`, 60_000, child);
  return child.pid!;
}

export function startWorker(state: Pick<StackState, "databaseUrl" | "redisUrl" | "queuePrefix">): number {
  const child = startProcess("worker", "npx", ["tsx", "worker/index.ts"], { ...stackEnv(state), NODE_ENV: "test" });
  return child.pid!;
}

/**
 * `next start` waits for open connections on SIGTERM, and an open dashboard's event stream never
 * ends by itself: after this grace period the server is killed, like a crashed one.
 */
const webStopGraceMs = 2000;

/** Stops `next start` (open pages see the stream drop and keep retrying). */
export async function stopWebServer(): Promise<void> {
  await stopProcessGroup(readStackState().webPid, webStopGraceMs);
}

/** Starts `next start` again on the same port, unless it is still running. */
export async function startWebServerAgain(): Promise<void> {
  const state = readStackState();
  if (isAlive(state.webPid)) return;
  const webPid = await startWebServer(state);
  writeStackState({ ...readStackState(), webPid });
}

/**
 * Freezes the worker process (SIGSTOP) so a job stays PENDING for as long as a test needs to
 * look at it, then lets it continue. Always resumes, even when `body` throws.
 */
export async function withWorkerPaused<T>(body: (resume: () => void) => Promise<T>): Promise<T> {
  const { workerPid } = readStackState();
  pauseProcessGroup(workerPid);
  let resumed = false;
  const resume = () => {
    if (!resumed) resumeProcessGroup(workerPid);
    resumed = true;
  };
  try {
    return await body(resume);
  } finally {
    resume();
  }
}

/**
 * A second `next start` with its own environment (an empty database, an unreachable one), for
 * states the shared stack cannot show. Stop it with the returned function.
 */
export async function startExtraWebServer(env: Pick<StackState, "databaseUrl" | "redisUrl" | "queuePrefix">): Promise<{
  baseURL: string;
  stop: () => Promise<void>;
}> {
  const port = await getFreePort();
  const pid = await startWebServer({ ...env, port }, `web-${port}`);
  return { baseURL: `http://127.0.0.1:${port}`, stop: () => stopProcessGroup(pid, webStopGraceMs) };
}
