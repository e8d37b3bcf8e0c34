import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { createTestDatabase, deleteQueuePrefix, uniqueName } from "../src/test-support/test-database.ts";
import { artifactsDir, getFreePort, repoRoot, stopProcessGroup, waitForHttp } from "./support/processes.ts";
import globalTeardown from "./global-teardown.ts";
import { startWebServer, startWorker, writeStackState, type StackState } from "./support/stack.ts";

/**
 * A self-contained stack per run: a fresh migrated database, a unique queue prefix, `next start`
 * on a free port and the real worker (`npx tsx worker/index.ts`), all sharing one environment.
 */
export default async function globalSetup(): Promise<void> {
  // A run that was killed before its teardown leaves processes and a database behind: clear them.
  await globalTeardown();
  mkdirSync(artifactsDir, { recursive: true });
  if (!existsSync(path.join(repoRoot, ".next", "BUILD_ID"))) {
    console.log("[e2e] .next is missing: running next build");
    const build = spawnSync("npx", ["next", "build"], {
      cwd: repoRoot,
      stdio: "inherit",
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    });
    if (build.status !== 0) throw new Error(`next build failed with status ${build.status}`);
  }

  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const queuePrefix = uniqueName("e2e");
  const database = await createTestDatabase("e2e");
  const port = await getFreePort();
  const base = { port, databaseUrl: database.url, redisUrl, queuePrefix };

  let workerPid: number | undefined;
  let webPid: number | undefined;
  try {
    workerPid = startWorker(base);
    webPid = await startWebServer(base);
    const state: StackState = {
      ...base,
      baseURL: `http://127.0.0.1:${port}`,
      webPid,
      workerPid,
      databaseName: database.name,
    };
    writeStackState(state);
    await waitForHttp(`${state.baseURL}/dashboard/agents/jobs`);
    // Tests read these through their own env (createJob and getDb use the same database and queue).
    process.env.E2E_BASE_URL = state.baseURL;
    process.env.DATABASE_URL = database.url;
    process.env.REDIS_URL = redisUrl;
    process.env.QUEUE_PREFIX = queuePrefix;
    console.log(`[e2e] app ${state.baseURL}, database ${database.name}, queue prefix ${queuePrefix}`);
  } catch (err) {
    if (webPid) await stopProcessGroup(webPid);
    if (workerPid) await stopProcessGroup(workerPid);
    await database.drop().catch(() => {});
    await deleteQueuePrefix(redisUrl, queuePrefix).catch(() => {});
    throw err;
  }
}
