import { existsSync, rmSync } from "node:fs";
import { deleteQueuePrefix, dropTestDatabase } from "../src/test-support/test-database.ts";
import { stopProcessGroup } from "./support/processes.ts";
import { readStackState, stateFile } from "./support/stack.ts";

/** Stops the web server and the worker, then drops the run's database and queue keys. */
export default async function globalTeardown(): Promise<void> {
  if (!existsSync(stateFile)) return;
  const state = readStackState();
  await Promise.all([stopProcessGroup(state.webPid, 5000), stopProcessGroup(state.workerPid)]);
  await dropTestDatabase(state.databaseName);
  await deleteQueuePrefix(state.redisUrl, state.queuePrefix);
  rmSync(stateFile, { force: true });
  console.log(`[e2e] stopped the app and the worker, dropped ${state.databaseName}`);
}
