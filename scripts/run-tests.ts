/**
 * `npm test`: every suite, each against its own fresh database and queue prefix on the local
 * PostgreSQL and Redis (DATABASE_URL/QUEUE_PREFIX of your own environment are never touched):
 * unit + integration (Vitest), the acceptance flow, browser e2e (Playwright), and the fault suite.
 * Pass suite names to run only some: `npm test -- unit flow`.
 */
import { spawn } from "node:child_process";
import { createTestDatabase, deleteQueuePrefix, uniqueName } from "../src/test-support/test-database.ts";

type Suite = { name: string; commands: string[][]; ownDatabase: boolean };

const suites: Suite[] = [
  { name: "unit", commands: [["npx", "vitest", "run"]], ownDatabase: false }, // its globalSetup makes one
  { name: "flow", commands: [["npx", "tsx", "scripts/test-agent-flow.ts"]], ownDatabase: true },
  // The browser tests run the production build, so build the current code first.
  { name: "e2e", commands: [["npx", "next", "build"], ["npx", "playwright", "test"]], ownDatabase: false },
  { name: "faults", commands: [["npx", "tsx", "scripts/test-faults.ts"]], ownDatabase: false }, // own services
];

function run(command: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: "inherit", env });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main() {
  const wanted = process.argv.slice(2);
  const selected = wanted.length ? suites.filter((s) => wanted.includes(s.name)) : suites;
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const results: { name: string; ok: boolean; seconds: number }[] = [];
  for (const suite of selected) {
    const started = Date.now();
    console.log(`\n=== ${suite.name}: ${suite.commands.map((c) => c.join(" ")).join(" && ")}`);
    const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", REDIS_URL: redisUrl };
    let cleanup = async () => {};
    if (suite.ownDatabase) {
      const db = await createTestDatabase(suite.name);
      const prefix = uniqueName("q");
      env.DATABASE_URL = db.url;
      env.QUEUE_PREFIX = prefix;
      cleanup = async () => {
        await db.drop();
        await deleteQueuePrefix(redisUrl, prefix);
      };
    }
    let code = 0;
    try {
      for (const command of suite.commands) {
        code = await run(command, env);
        if (code !== 0) break;
      }
    } finally {
      await cleanup();
    }
    results.push({ name: suite.name, ok: code === 0, seconds: Math.round((Date.now() - started) / 1000) });
  }
  console.log("\n=== summary");
  for (const r of results) console.log(`${r.ok ? "PASS" : "FAIL"} ${r.name} (${r.seconds} s)`);
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
