/**
 * Acceptance check (`npm run test:flow`): creates one job of each type through the state manager,
 * waits for the worker to finish it, and asserts the row is COMPLETED with output.
 * Exits non-zero on any failure.
 *
 * By default it starts the real worker process (`tsx worker/index.ts`) for the run and stops it
 * afterwards; with --external-worker it relies on one you already run (`npm run worker`).
 * Uses DATABASE_URL, REDIS_URL and QUEUE_PREFIX like the rest of the engine, migrating first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { closeDb, getDb } from "../src/lib/db.ts";
import { getEnv } from "../src/lib/env.ts";
import { jobTypeNames, jobTypes } from "../src/lib/agents/job-types.ts";
import { createJob } from "../src/lib/agents/state-manager.ts";
import { closeAgentQueue } from "../src/lib/queue/agent-queue.ts";
import { migrate } from "./migrate.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const externalWorker = process.argv.includes("--external-worker");
const timeoutMs = 30_000;

function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "worker/index.ts")], {
    cwd: root,
    env: process.env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("worker did not start within 20 s")), 20_000);
    child.once("exit", (code) => reject(new Error(`worker exited early with code ${code}`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      for (const line of text.split("\n").filter(Boolean)) console.log(`  | ${line}`);
      if (text.includes("started:")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
  });
}

async function main(): Promise<number> {
  const env = getEnv();
  await migrate(env.DATABASE_URL);
  const worker = externalWorker ? undefined : await startWorker();
  const db = getDb();
  let failures = 0;
  try {
    console.log(`test:flow: one job of each type (queue prefix ${env.QUEUE_PREFIX})`);
    for (const type of jobTypeNames) {
      const started = Date.now();
      const row = await createJob(type, jobTypes[type].example);
      let job = await db.agentJob.findUniqueOrThrow({ where: { id: row.id } });
      while (job.status !== "COMPLETED" && job.status !== "FAILED" && Date.now() - started < timeoutMs) {
        await new Promise((r) => setTimeout(r, 25));
        job = await db.agentJob.findUniqueOrThrow({ where: { id: row.id } });
      }
      const ms = Date.now() - started;
      const problems: string[] = [];
      if (job.status !== "COMPLETED") problems.push(`status is ${job.status}${job.error ? ` (${job.error})` : ""}, expected COMPLETED`);
      if (job.output === null || typeof job.output !== "object") problems.push("output is missing");
      else if (!jobTypes[type].output.safeParse(job.output).success) problems.push("output does not match its schema");
      if (problems.length) {
        failures++;
        console.error(`FAIL ${type} ${job.id}: ${problems.join("; ")}`);
        continue;
      }
      console.log(`PASS ${type} ${job.id} COMPLETED in ${ms} ms, ${job.logs.length} log entries`);
      console.log(`     ${describeOutput(type, job.output)}`);
    }
  } finally {
    await closeAgentQueue();
    await closeDb();
    if (worker) {
      worker.removeAllListeners("exit");
      worker.kill("SIGTERM");
      await new Promise((r) => worker.once("exit", r));
    }
  }
  console.log(`${jobTypeNames.length - failures} passed, ${failures} failed`);
  return failures ? 1 : 0;
}

function describeOutput(type: string, output: unknown): string {
  const o = output as Record<string, unknown>;
  switch (type) {
    case "RESEARCH": {
      const terms = (o.keyTerms as { term: string }[]).map((t) => t.term).slice(0, 5);
      return `brief on "${String(o.topic)}": key terms ${terms.join(", ")}; ${(o.topSentences as unknown[]).length} top sentences`;
    }
    case "OUTREACH":
      return `${String(o.channel)} to ${String(o.to)}: ${JSON.stringify(String(o.body).slice(0, 60))}...`;
    case "ENRICHMENT":
      return `normalised record ${JSON.stringify(o.record)}, ${(o.changes as unknown[]).length} changes`;
    default:
      return JSON.stringify(output).slice(0, 120);
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`test:flow failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
