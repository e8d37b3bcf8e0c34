/**
 * Fault suite (`npm run test:faults`): proves the reliability promises of issue 4 with real worker
 * processes and real services. Each scenario prints what happened (numbers, timings) and the run
 * ends with `N passed, M failed` (exit code 1 if any failed).
 *
 * Scenarios that stop or flush a service start their own throwaway redis-server / PostgreSQL on a
 * spare port (scripts/faults/services.ts); the others use the shared services with a fresh database
 * and a unique queue prefix. Workers are `worker/index.ts` (real handlers) or
 * `scripts/faults/fault-worker.ts` (the same process wiring, with an ENRICHMENT handler whose
 * behaviour the job input controls), run with short lock/stall/reconcile intervals.
 *
 * Run some scenarios only: `npm run test:faults -- 2 5`. Stream worker output: FAULTS_VERBOSE=1.
 * Scale every scenario's time limit on a slow machine: FAULTS_TIMEOUT_SCALE=2.
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { isAgentEngineError, type AgentEngineError } from "../src/lib/errors.ts";
import { jobTypeNames, jobTypes } from "../src/lib/agents/job-types.ts";
import { cancelJob, createJob, enqueueJob, retryJob, type CreateJobOptions } from "../src/lib/agents/state-manager.ts";
import {
  CheckFailed,
  countBy,
  createScope,
  createStack,
  messages,
  readCounts,
  seconds,
  waitFor,
  waitForFinished,
  waitForStatus,
  type JobRow,
  type Scope,
  type Stack,
} from "./faults/harness.ts";
import { startThrowawayPostgres, startThrowawayRedis } from "./faults/services.ts";

type FaultFields = {
  faultSleepMs?: number;
  faultSlowRuns?: number;
  faultFailTimes?: number;
  faultPermanent?: boolean;
  faultLogBurst?: number;
  faultQuiet?: boolean;
};

/** An ENRICHMENT input the fault worker acts on (the real handler still normalises the record). */
const faultJob = (fields: FaultFields & Record<string, string | number | boolean> = {}) => ({
  record: { name: "ada LOVELACE", email: "Ada@Analytical.example", ...fields },
});

const via = (stack: Stack, extra: CreateJobOptions = {}): CreateJobOptions => ({
  db: stack.db,
  queue: stack.queue,
  enqueueTimeoutMs: 3000,
  ...extra,
});

const createFault = (stack: Stack, fields: FaultFields = {}) => createJob("ENRICHMENT", faultJob(fields), via(stack));

async function catchError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err;
  }
}

async function counter(stack: Stack, name: string, id: string): Promise<number> {
  return Number((await stack.counters.get(stack.counterKey(name, id))) ?? 0);
}

// ---------------------------------------------------------------------------------------------

/** 1. Retries with backoff; never FAILED between attempts; permanent errors fail at once. */
async function retries(s: Scope): Promise<void> {
  const stack = await createStack(s);
  const { db } = stack;
  await stack.startWorker({ kind: "fault", label: "w1" });

  const rowsBefore = await db.agentJob.count();
  const refused = await catchError(createJob("ENRICHMENT", { record: {} }, via(stack)));
  s.check(isAgentEngineError(refused) && refused.code === "INVALID_INPUT", `createJob with invalid input: expected INVALID_INPUT, got ${String(refused)}`);
  s.check((await db.agentJob.count()) === rowsBefore, "createJob wrote a row for invalid input");
  s.say(`invalid input to createJob: refused with INVALID_INPUT ("${refused.message}"), no row written`);

  const started = Date.now();
  const flaky = await createFault(stack, { faultFailTimes: 2 });
  const hopeless = await createFault(stack, { faultFailTimes: 99 });
  const permanent = await createFault(stack, { faultPermanent: true });
  // A stored input that no longer validates (written by an older version, say): only the worker can refuse it.
  const invalid = await db.agentJob.create({ data: { type: "ENRICHMENT", input: { record: {} }, maxAttempts: 3 } });
  await enqueueJob(stack.queue, invalid);

  type Sample = { status: string; attempts: number; error: string | null; at: number };
  const samples = new Map<string, Sample[]>([
    [flaky.id, []],
    [hopeless.id, []],
  ]);
  let sampling = true;
  let sampleCount = 0;
  const sampler = (async () => {
    while (sampling) {
      const rows = await db.agentJob.findMany({
        where: { id: { in: [flaky.id, hopeless.id] } },
        select: { id: true, status: true, attempts: true, error: true },
      });
      sampleCount++;
      for (const r of rows) {
        const list = samples.get(r.id)!;
        const last = list.at(-1);
        if (!last || last.status !== r.status || last.attempts !== r.attempts || last.error !== r.error) {
          list.push({ status: r.status, attempts: r.attempts, error: r.error, at: Date.now() - started });
        }
      }
      await sleep(15);
    }
  })();
  let rows: JobRow[];
  try {
    rows = await waitForFinished(db, [flaky.id, hopeless.id, permanent.id, invalid.id], 30_000);
  } finally {
    sampling = false;
    await sampler;
  }
  const byId = new Map(rows.map((r) => [r.id, r]));
  const show = (list: Sample[]) => list.map((x) => `${x.status}/${x.attempts}`).join(" → ");

  const f = byId.get(flaky.id)!;
  const fSamples = samples.get(flaky.id)!;
  s.say(
    `fails twice: ${f.status} with attempts ${f.attempts} after ${seconds(f.finishedAt!.getTime() - f.createdAt.getTime())}; ` +
      `${sampleCount} samples, status/attempts seen: ${show(fSamples)}`,
  );
  s.check(f.status === "COMPLETED" && f.attempts === 3, `flaky job ended ${f.status} with attempts ${f.attempts}`);
  s.check(!fSamples.some((x) => x.status === "FAILED"), "flaky job was sampled FAILED between attempts");
  const between = fSamples.filter((x) => x.status === "PENDING" && x.attempts > 0);
  s.check(between.length > 0, "no sample caught the flaky job waiting for its retry");
  s.check(
    between.every((x) => x.error === `planned failure on attempt ${x.attempts}`),
    `between attempts the row should show the last error; saw ${JSON.stringify(between.map((x) => x.error))}`,
  );
  s.say(`  between attempts the row showed: ${[...new Set(between.map((x) => `PENDING, attempts ${x.attempts}, error "${x.error}"`))].join("; ")}`);
  s.check((await counter(stack, "starts", f.id)) === 3 && (await counter(stack, "done", f.id)) === 1, "flaky job: handler should start 3 times and complete once");

  const h = byId.get(hopeless.id)!;
  const hSamples = samples.get(hopeless.id)!;
  const firstFailed = hSamples.find((x) => x.status === "FAILED");
  const failures = messages(h).filter((m) => /^Attempt \d failed/.test(m));
  s.say(`fails always: ${h.status}, attempts ${h.attempts}, error "${h.error}"; status/attempts seen: ${show(hSamples)}`);
  for (const line of failures) s.say(`  log: ${line}`);
  s.check(h.status === "FAILED" && h.attempts === 3, `hopeless job ended ${h.status} with attempts ${h.attempts}`);
  s.check(firstFailed?.attempts === 3, "hopeless job showed FAILED before its last attempt");
  s.check(h.error === "planned failure on attempt 3 (attempt 3 of 3, no attempts left)", `unexpected final error "${h.error}"`);
  s.check(
    JSON.stringify(failures) ===
      JSON.stringify([
        "Attempt 1 failed: planned failure on attempt 1; retrying in 1000 ms",
        "Attempt 2 failed: planned failure on attempt 2; retrying in 2000 ms",
        "Attempt 3 failed: planned failure on attempt 3",
      ]),
    "the logs should hold each attempt's error",
  );

  const p = byId.get(permanent.id)!;
  s.say(`PermanentJobError: ${p.status}, attempts ${p.attempts}, error "${p.error}", in ${p.finishedAt!.getTime() - p.createdAt.getTime()} ms`);
  s.check(p.status === "FAILED" && p.attempts === 1 && p.error === "planned permanent failure", "permanent error should fail at once");

  const i = byId.get(invalid.id)!;
  s.say(`stored input that fails validation: ${i.status}, attempts ${i.attempts}, error "${i.error}", handler runs: ${await counter(stack, "starts", i.id)}`);
  s.check(i.status === "FAILED" && i.attempts === 1 && /^Invalid input: input\.record/.test(i.error ?? ""), "invalid stored input should fail at once");
  s.check((await counter(stack, "starts", i.id)) === 0, "the handler ran on invalid input");
}

/** 2. kill -9 mid-job: rerun to COMPLETED; with the allowed stalls used up, FAILED with a stall reason. */
async function crashRecovery(s: Scope): Promise<void> {
  const stack = await createStack(s);
  const { db } = stack;
  const w1 = await stack.startWorker({ kind: "fault", label: "w1" });

  const job = await createFault(stack, { faultSleepMs: 60_000, faultSlowRuns: 1 });
  await waitForStatus(db, job.id, "RUNNING", 15_000);
  await waitFor(async () => (await counter(stack, "starts", job.id)) === 1, 5000, "the handler to start");
  const killedAt = Date.now();
  w1.kill("SIGKILL");
  await w1.waitExit(5000);
  const w2 = await stack.startWorker({ kind: "fault", label: "w2" });
  const [done] = await waitForFinished(db, [job.id], 30_000);
  const stalledLine = w2.lines.find((l) => l.includes(`job ${job.id} stalled`));
  s.say(
    `kill -9 during a 60 s job: a new worker ran it again -> ${done!.status} ${seconds(Date.now() - killedAt)} after the kill ` +
      `(handler started ${await counter(stack, "starts", job.id)}x, completed ${await counter(stack, "done", job.id)}x, attempts ${done!.attempts})`,
  );
  if (stalledLine) s.say(`  w2: ${stalledLine}`);
  s.check(done!.status === "COMPLETED", `job ended ${done!.status}: ${done!.error}`);
  s.check((await counter(stack, "starts", job.id)) === 2 && (await counter(stack, "done", job.id)) === 1, "expected 2 starts and 1 completion");

  // WORKER_MAX_STALLED_COUNT=1: the job survives one worker death, not two.
  const doomed = await createFault(stack, { faultSleepMs: 60_000 });
  await waitForStatus(db, doomed.id, "RUNNING", 15_000);
  await waitFor(async () => (await counter(stack, "starts", doomed.id)) === 1, 5000, "the handler to start on w2");
  w2.kill("SIGKILL");
  await w2.waitExit(5000);
  const firstKill = Date.now();
  const w3 = await stack.startWorker({ kind: "fault", label: "w3" });
  await waitFor(async () => (await counter(stack, "starts", doomed.id)) === 2, 30_000, "w3 to run the job again after the first kill");
  await waitForStatus(db, doomed.id, "RUNNING", 5000);
  w3.kill("SIGKILL");
  await w3.waitExit(5000);
  const secondKill = Date.now();
  await stack.startWorker({ kind: "fault", label: "w4" });
  const [failed] = await waitForFinished(db, [doomed.id], 30_000);
  s.say(
    `killed twice (max stalled count 1): rerun ${seconds(secondKill - firstKill)} after the 1st kill, then ${failed!.status} ` +
      `${seconds(Date.now() - secondKill)} after the 2nd: "${failed!.error}"`,
  );
  s.check(failed!.status === "FAILED" && /stall/i.test(failed!.error ?? ""), `expected FAILED with a stall reason, got ${failed!.status} "${failed!.error}"`);
  const running = await db.agentJob.count({ where: { status: "RUNNING" } });
  s.say(`rows left RUNNING: ${running}`);
  s.check(running === 0, `${running} rows stayed RUNNING`);
}

/** 3. SIGTERM: a short job finishes; a long one is requeued (PENDING, not FAILED) and completed by the next worker. */
async function gracefulShutdown(s: Scope): Promise<void> {
  const stack = await createStack(s);
  const { db } = stack;
  const grace = 3000;
  const env = { SHUTDOWN_GRACE_MS: String(grace) };

  const w1 = await stack.startWorker({ kind: "fault", label: "w1", env });
  const short = await createFault(stack, { faultSleepMs: 1500 });
  await waitForStatus(db, short.id, "RUNNING", 15_000);
  let signalledAt = Date.now();
  w1.kill("SIGTERM");
  const exit1 = await w1.waitExit(grace + 20_000, signalledAt);
  const shortRow = await db.agentJob.findUniqueOrThrow({ where: { id: short.id } });
  s.say(`SIGTERM during a 1.5 s job: job ${shortRow.status}; worker exited with code ${exit1.code} after ${exit1.ms} ms (grace ${grace} ms)`);
  s.check(shortRow.status === "COMPLETED", `short job ended ${shortRow.status}`);
  s.check(exit1.code === 0 && exit1.ms <= grace, `worker should exit 0 within the grace; got ${exit1.code ?? exit1.signal} after ${exit1.ms} ms`);

  const w2 = await stack.startWorker({ kind: "fault", label: "w2", env });
  const long = await createFault(stack, { faultSleepMs: 60_000, faultSlowRuns: 1 });
  await waitForStatus(db, long.id, "RUNNING", 15_000);
  // Saved now, queued only once w2 drains: it must wait for the next worker.
  const late = await db.agentJob.create({ data: { type: "ENRICHMENT", input: faultJob(), maxAttempts: 3 } });
  // Keep a reconciler pass in flight across the SIGTERM (it waits on a table lock, as a slow pass
  // over many rows would run long): a draining worker must stop taking jobs without waiting for it.
  const locker = new pg.Client({ connectionString: stack.databaseUrl });
  await locker.connect();
  s.defer("release the table lock", () => locker.end().catch(() => {}));
  await locker.query(`BEGIN; LOCK TABLE "AgentJob" IN ACCESS EXCLUSIVE MODE`);
  await waitFor(
    async () =>
      (
        await locker.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%"updatedAt" ASC%'`,
        )
      ).rows[0]!.n > 0,
    5000,
    "a reconciler pass to wait on the lock",
  );
  signalledAt = Date.now();
  w2.kill("SIGTERM");
  await w2.waitForLine(/SIGTERM: taking no new jobs/, 5000);
  await sleep(200);
  await enqueueJob(stack.queue, late);
  await sleep(800);
  await locker.query("ROLLBACK");
  const exit2 = await w2.waitExit(grace + 20_000, signalledAt);
  const margin = 2000;
  const longRow = await db.agentJob.findUniqueOrThrow({ where: { id: long.id } });
  const lateRow = await db.agentJob.findUniqueOrThrow({ where: { id: late.id } });
  const queueState = await stack.queue.getJobState(long.id);
  s.say(
    `SIGTERM during a 60 s job: worker exited with code ${exit2.code} after ${exit2.ms} ms (grace ${grace} ms + ${margin} ms margin); ` +
      `row ${longRow.status} (error ${JSON.stringify(longRow.error)}, attempts ${longRow.attempts}), queue job ${queueState}; ` +
      `handler saw abort: "${await stack.counters.get(stack.counterKey("aborted", long.id))}"`,
  );
  s.say(
    `  job queued 0.2 s after SIGTERM while a reconciler pass was still in flight: ${lateRow.status}, handler runs on the draining worker ${await counter(stack, "starts", late.id)}`,
  );
  s.check(exit2.code === 0 && exit2.ms <= grace + margin, `worker should exit 0 within grace+margin; got ${exit2.code ?? exit2.signal} after ${exit2.ms} ms`);
  s.check(longRow.status === "PENDING" && longRow.error === null, `interrupted job should be PENDING without error; is ${longRow.status} "${longRow.error}"`);
  s.check(messages(longRow).some((m) => /interrupted: the worker shut down while the job was running; it will run again/.test(m)), "no 'interrupted' log entry");
  s.check(lateRow.status === "PENDING" && (await counter(stack, "starts", late.id)) === 0, "a draining worker took a new job");

  const restartedAt = Date.now();
  await stack.startWorker({ kind: "fault", label: "w3", env });
  const rows = await waitForFinished(db, [long.id, late.id], 30_000);
  const longDone = rows.find((r) => r.id === long.id)!;
  s.say(
    `next worker: interrupted job ${longDone.status} ${seconds(Date.now() - restartedAt)} after it started, attempts ${longDone.attempts} ` +
      `(the interruption used none), handler started ${await counter(stack, "starts", long.id)}x / completed ${await counter(stack, "done", long.id)}x; ` +
      `late job ${rows.find((r) => r.id === late.id)!.status}`,
  );
  s.check(rows.every((r) => r.status === "COMPLETED"), "both jobs should complete on the next worker");
  s.check(longDone.attempts === 1, `the interruption should not use an attempt (attempts ${longDone.attempts})`);
  s.check((await counter(stack, "done", long.id)) === 1, "the interrupted job's work should complete exactly once");
}

/** 4. Jobs PENDING, no worker, FLUSHALL: the worker's reconciler requeues every one and all complete. */
async function reconciliation(s: Scope): Promise<void> {
  const redis = await startThrowawayRedis();
  s.defer("destroy throwaway redis", () => redis.destroy());
  const stack = await createStack(s, { redis });
  const { db } = stack;

  const count = 30;
  const rows = await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const type = jobTypeNames[i % jobTypeNames.length]!;
      return createJob(type, jobTypes[type].example, via(stack));
    }),
  );
  const queued = await stack.queue.getWaitingCount();
  await redis.flushAll();
  const afterFlush = await stack.queue.getJobCounts();
  const total = Object.values(afterFlush).reduce((a, b) => a + b, 0);
  s.say(`${count} jobs created (${queued} waiting in the queue), no worker running; FLUSHALL -> queue holds ${total} jobs`);
  s.check(queued === count && total === 0, "FLUSHALL should have emptied a queue of all the jobs");

  const startedAt = Date.now();
  const worker = await stack.startWorker({ kind: "real", label: "w1" });
  const done = await waitForFinished(db, rows.map((r) => r.id), 30_000);
  const elapsed = Date.now() - startedAt;
  const repairLines = worker.lines.filter((l) => l.startsWith("[reconciler] repaired"));
  let repaired = 0;
  let requeued = 0;
  for (const line of repairLines) {
    const m = /repaired (\d+) of (\d+) checked: (\d+) PENDING requeued/.exec(line);
    if (m) {
      repaired += Number(m[1]);
      requeued += Number(m[3]);
    }
  }
  const statuses = countBy(done.map((r) => r.status));
  s.say(`worker started: ${JSON.stringify(statuses)} ${seconds(elapsed)} later; reconciler repaired ${repaired} (${requeued} PENDING requeued)`);
  for (const line of repairLines) s.say(`  w1: ${line}`);
  s.check(statuses.COMPLETED === count, `expected ${count} COMPLETED, got ${JSON.stringify(statuses)}`);
  s.check(requeued === count, `the reconciler should report ${count} requeued, reported ${requeued}`);
  s.check(done.every((r) => messages(r).some((m) => m.startsWith("Queued again by the reconciler"))), "every row should log its requeue");
}

/** 5. Redis stops: createJob fails fast with QUEUE_UNAVAILABLE; Redis returns: the same worker resumes. */
async function redisOutage(s: Scope): Promise<void> {
  const redis = await startThrowawayRedis();
  s.defer("destroy throwaway redis", () => redis.destroy());
  const stack = await createStack(s, { redis });
  const { db } = stack;
  const worker = await stack.startWorker({ kind: "real", label: "w1" });
  const example = jobTypes.ENRICHMENT.example;

  const first = await createJob("ENRICHMENT", example, via(stack));
  const [firstDone] = await waitForFinished(db, [first.id], 20_000);
  s.check(firstDone!.status === "COMPLETED", "baseline job should complete");

  // A hung Redis (frozen process, sockets open) answers nothing: only the enqueue timeout bounds the call.
  redis.freeze();
  const hangTimeoutMs = 2000;
  const hungStart = Date.now();
  const hungErr = await catchError(createJob("ENRICHMENT", example, via(stack, { enqueueTimeoutMs: hangTimeoutMs })));
  const hungMs = Date.now() - hungStart;
  redis.thaw();
  s.say(`Redis frozen (SIGSTOP): createJob failed after ${hungMs} ms (enqueue timeout ${hangTimeoutMs} ms): ${(hungErr as Error)?.message}`);
  s.check(isAgentEngineError(hungErr) && hungErr.code === "QUEUE_UNAVAILABLE" && hungErr.jobId, `expected QUEUE_UNAVAILABLE, got ${String(hungErr)}`);
  s.check(hungMs >= hangTimeoutMs && hungMs <= hangTimeoutMs + 1000, `createJob took ${hungMs} ms`);
  const [hungDone] = await waitForFinished(db, [hungErr.jobId!], 20_000);
  s.say(`  after SIGCONT that job ran: ${hungDone!.status}, handler runs recorded in its logs: ${messages(hungDone!).filter((m) => /^Attempt \d+ of \d+ started$/.test(m)).length}`);
  s.check(hungDone!.status === "COMPLETED", `the job saved while Redis hung ended ${hungDone!.status}`);

  await redis.stop();
  const downAt = Date.now();
  const enqueueTimeoutMs = 3000;
  const t = Date.now();
  const err = await catchError(createJob("ENRICHMENT", example, via(stack, { enqueueTimeoutMs })));
  const took = Date.now() - t;
  s.check(isAgentEngineError(err) && err.code === "QUEUE_UNAVAILABLE", `expected QUEUE_UNAVAILABLE, got ${String(err)}`);
  const outageJobId = (err as AgentEngineError).jobId!;
  s.say(`Redis stopped; createJob failed after ${took} ms (enqueue timeout ${enqueueTimeoutMs} ms): ${err.code}: ${err.message}`);
  s.check(took <= enqueueTimeoutMs + 1000, `createJob took ${took} ms`);
  s.check(outageJobId && err.message.includes(outageJobId), "the error should name the saved job");
  const saved = await db.agentJob.findUniqueOrThrow({ where: { id: outageJobId } });
  s.check(saved.status === "PENDING" && /Could not confirm that the job was queued/.test(saved.error ?? ""), `saved row is ${saved.status} "${saved.error}"`);

  await sleep(3000);
  s.check(worker.alive(), "the worker died during the Redis outage");
  const errorLines = worker.lines.filter((l) => /ECONNREFUSED|Connection is closed|connect/i.test(l)).length;
  await redis.start();
  const upAt = Date.now();
  s.say(`Redis down for ${seconds(upAt - downAt)}; worker alive (pid ${worker.pid}) and logged ${errorLines} connection errors; Redis started again on port ${redis.port} (empty)`);

  // The API's producer connection reconnects by itself; wait for it like a caller retrying would.
  await waitFor(async () => !!(await stack.queue.getJobCounts()), 10_000, "the producer connection to reconnect");
  const after = await createJob("ENRICHMENT", example, via(stack));
  const [afterDone] = await waitForFinished(db, [after.id], 30_000);
  const afterMs = Date.now() - upAt;
  const [outageDone] = await waitForFinished(db, [outageJobId], 30_000);
  const outageMs = Date.now() - upAt;
  s.say(`new job after Redis returned: ${afterDone!.status} ${seconds(afterMs)} after Redis was back (same worker process, no restart)`);
  s.say(
    `job saved during the outage: ${outageDone!.status} ${seconds(outageMs)} after Redis was back; ` +
      `log: "${messages(outageDone!).find((m) => m.startsWith("Queued again")) ?? "(no requeue entry)"}"`,
  );
  s.check(afterDone!.status === "COMPLETED", `new job ended ${afterDone!.status}`);
  s.check(outageDone!.status === "COMPLETED", `outage job ended ${outageDone!.status}`);
  s.check(worker.alive(), "the worker should still be the same running process");
}

/** 6. PostgreSQL stops while a job runs; the handler finishes; PostgreSQL returns; the row ends COMPLETED. */
async function postgresOutage(s: Scope): Promise<void> {
  const postgres = await startThrowawayPostgres();
  s.defer("destroy throwaway postgres", () => postgres.destroy());
  const stack = await createStack(s, { postgres });
  const { db } = stack;
  const worker = await stack.startWorker({ kind: "fault", label: "w1" });

  // Quiet: the handler makes no log/progress writes, so the first write after it returns is the status write.
  const job = await createFault(stack, { faultSleepMs: 2500, faultQuiet: true });
  await waitForStatus(db, job.id, "RUNNING", 15_000);
  await postgres.stop();
  const downAt = Date.now();
  const doneAt = await waitFor(async () => Number(await stack.counters.get(stack.counterKey("done-at", job.id))) || null, 15_000, "the handler to finish");
  // Let the worker fail and retry its COMPLETED write for a while before the database returns.
  await sleep(2500);
  await postgres.start();
  const upAt = Date.now();
  const [row] = await waitForFinished(db, [job.id], 30_000);
  // Prisma's messages span lines: join the retry notice with the lines naming the failed call.
  const retryAt = worker.lines.findIndex((l) => l.includes(`job ${job.id}: database unavailable`));
  const retryLine =
    retryAt === -1
      ? undefined
      : worker.lines
          .slice(retryAt, retryAt + 1 + worker.lines.slice(retryAt).findIndex((l) => l.endsWith("; retrying")))
          .filter((l, i) => i === 0 || /invocation|Can't reach|retrying/.test(l))
          .map((l) => l.trim())
          .join(" ");
  s.say(
    `PostgreSQL stopped while the job ran; handler finished ${seconds(doneAt - downAt)} into the outage; ` +
      `PostgreSQL back after ${seconds(upAt - downAt)}; row ${row!.status} ${seconds(Date.now() - upAt)} later (attempts ${row!.attempts})`,
  );
  if (retryLine) s.say(`  w1: ${retryLine}`);
  s.check(doneAt < upAt, "the handler should finish while the database is down");
  s.check(row!.status === "COMPLETED", `row ended ${row!.status} "${row!.error}"`);
  s.check(!!retryLine && /agentJob\.update\(\)/.test(retryLine), "the worker should log that it retried its status write");
  s.check(messages(row!).some((m) => /^Completed in \d+ ms$/.test(m)), "the completion log entry is missing");
  s.check((await counter(stack, "done", job.id)) === 1, "the work should have run once");
  s.check(worker.alive(), "the worker died during the PostgreSQL outage");
}

/** 7. 50 concurrent creates with one key: one row, one queue job; after completion the key returns that job. */
async function idempotency(s: Scope): Promise<void> {
  const stack = await createStack(s);
  const { db } = stack;
  const key = `faults-${stack.prefix}`;
  const input = jobTypes.ENRICHMENT.example;

  const results = await Promise.all(Array.from({ length: 50 }, () => createJob("ENRICHMENT", input, via(stack, { idempotencyKey: key }))));
  const ids = new Set(results.map((r) => r.id));
  const rows = await db.agentJob.count();
  const counts = await stack.queue.getJobCounts();
  const queueJobs = Object.values(counts).reduce((a, b) => a + b, 0);
  s.say(`50 concurrent createJob with one key (no worker yet): ${ids.size} distinct id, ${rows} row, ${queueJobs} queue job`);
  s.check(ids.size === 1 && rows === 1 && queueJobs === 1, "expected one id, one row, one queue job");
  const [id] = [...ids];

  await stack.startWorker({ kind: "real", label: "w1" });
  const [done] = await waitForFinished(db, [id!], 20_000);
  s.check(done!.status === "COMPLETED", `job ended ${done!.status}`);
  const again = await Promise.all(Array.from({ length: 50 }, () => createJob("ENRICHMENT", input, via(stack, { idempotencyKey: key }))));
  const countsAfter = await stack.queue.getJobCounts();
  s.say(
    `after it COMPLETED, 50 more creates with the key: ids ${JSON.stringify(countBy(again.map((r) => (r.id === id ? "same" : "other"))))}, ` +
      `statuses ${JSON.stringify(countBy(again.map((r) => r.status)))}; rows ${await db.agentJob.count()}; queue ${JSON.stringify(countsAfter)}`,
  );
  s.check(again.every((r) => r.id === id && r.status === "COMPLETED"), "the key should return the completed job");
  s.check(JSON.stringify(again[0]!.output) === JSON.stringify(done!.output), "the returned job should carry its output");
  s.check((await db.agentJob.count()) === 1, "a second row appeared");
}

/** 8. Timeout, cancel from another process (the handler sees the abort), retry of the cancelled job. */
async function timeoutsAndCancellation(s: Scope): Promise<void> {
  const stack = await createStack(s);
  const { db } = stack;
  const timeoutMs = 4000;
  await stack.startWorker({ kind: "fault", label: "w1", env: { FAULT_JOB_TIMEOUT_MS: String(timeoutMs) } });

  const slow = await createFault(stack, { faultSleepMs: 60_000 });
  const cancelled = await createFault(stack, { faultSleepMs: 60_000, faultSlowRuns: 1 });
  await waitForStatus(db, cancelled.id, "RUNNING", 15_000);
  await waitFor(async () => (await counter(stack, "starts", cancelled.id)) === 1, 5000, "the handler to start");
  const cancelAt = Date.now();
  const flagged = await cancelJob(cancelled.id, { db, queue: stack.queue });
  const [cancelRow] = await waitForFinished(db, [cancelled.id], 15_000);
  const cancelMs = Date.now() - cancelAt;
  const sawAbort = messages(cancelRow!).find((m) => m.startsWith("fault handler saw the abort signal"));
  s.say(
    `cancelJob on a RUNNING job (returned ${flagged.status}): ${cancelRow!.status} "${cancelRow!.error}" ${cancelMs} ms later; ` +
      `handler in the worker process logged "${sawAbort}"`,
  );
  s.check(cancelRow!.status === "FAILED" && cancelRow!.error === "Cancelled by request", `cancelled job ended ${cancelRow!.status} "${cancelRow!.error}"`);
  s.check(sawAbort === "fault handler saw the abort signal: Cancelled by request", "the handler should record that its signal fired");
  s.check((await stack.counters.get(stack.counterKey("aborted", cancelled.id))) === "Cancelled by request", "no abort record in Redis");
  s.check(cancelMs < 5000, `cancel took ${cancelMs} ms`);

  const [slowRow] = await waitForFinished(db, [slow.id], 20_000);
  s.say(
    `job past its ${timeoutMs} ms timeout: ${slowRow!.status} "${slowRow!.error}" after ${seconds(slowRow!.finishedAt!.getTime() - slowRow!.startedAt!.getTime())}, ` +
      `attempts ${slowRow!.attempts}; handler saw "${await stack.counters.get(stack.counterKey("aborted", slow.id))}"`,
  );
  s.check(slowRow!.status === "FAILED" && slowRow!.error === `Timed out after ${timeoutMs} ms`, `timed-out job ended ${slowRow!.status} "${slowRow!.error}"`);

  const retryAt = Date.now();
  const retried = await retryJob(cancelled.id, { db, queue: stack.queue });
  const [again] = await waitForFinished(db, [cancelled.id], 20_000);
  s.say(
    `retryJob of the cancelled job (returned ${retried.status}): ${again!.status} ${seconds(Date.now() - retryAt)} later, attempts ${again!.attempts}, ` +
      `handler started ${await counter(stack, "starts", cancelled.id)}x / completed ${await counter(stack, "done", cancelled.id)}x`,
  );
  s.check(again!.status === "COMPLETED" && again!.error === null, `retried job ended ${again!.status} "${again!.error}"`);
  s.check((await counter(stack, "done", cancelled.id)) === 1, "the retried job's work should complete once");
}

/** 9. Two worker processes, 1,000 jobs: each completes exactly once and both workers take a share. */
async function severalWorkers(s: Scope): Promise<void> {
  const stack = await createStack(s);
  const { db } = stack;
  // Long locks: this scenario is about sharing work, not about stalls under a loaded 2-core machine.
  const env = { WORKER_LOCK_DURATION_MS: "30000", WORKER_STALLED_INTERVAL_MS: "30000", WORKER_CONCURRENCY: "20" };
  await Promise.all([stack.startWorker({ kind: "fault", label: "A", env }), stack.startWorker({ kind: "fault", label: "B", env })]);

  const count = 1000;
  const startedAt = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, (_, j) => createJob("ENRICHMENT", faultJob({ name: `person ${i + j}`, faultSleepMs: 2 }), via(stack))),
    );
    ids.push(...batch.map((r) => r.id));
  }
  const createdMs = Date.now() - startedAt;
  const rows = await waitForFinished(db, ids, 120_000);
  const elapsed = Date.now() - startedAt;
  const statuses = countBy(rows.map((r) => r.status));
  const done = await readCounts(stack, "done", ids);
  const starts = await readCounts(stack, "starts", ids);
  const byWorker = await stack.counters.hgetall(stack.counterKey("by-worker"));
  const doneHistogram = countBy(done.map(String));
  s.say(
    `${count} jobs created in ${seconds(createdMs)}, all finished ${seconds(elapsed)} after the first (${Math.round(count / (elapsed / 1000))} jobs/s): ${JSON.stringify(statuses)}`,
  );
  s.say(`side effects per job {count: jobs}: done ${JSON.stringify(doneHistogram)}, handler starts ${JSON.stringify(countBy(starts.map(String)))}; by worker ${JSON.stringify(byWorker)}`);
  s.check(statuses.COMPLETED === count, "every job should complete");
  s.check(done.every((n) => n === 1) && starts.every((n) => n === 1), "every job's side effect should happen exactly once");
  s.check(Number(byWorker.A ?? 0) > 0 && Number(byWorker.B ?? 0) > 0, "both workers should have done some of the work");
  s.check(Number(byWorker.A ?? 0) + Number(byWorker.B ?? 0) === count, "the workers' shares should add up to the job count");
}

/** 10. 200 concurrent createJob calls while Redis restarts: every row ends COMPLETED, none lost or duplicated. */
async function createsDuringRedisRestart(s: Scope): Promise<void> {
  const redis = await startThrowawayRedis();
  s.defer("destroy throwaway redis", () => redis.destroy());
  const stack = await createStack(s, { redis });
  const { db } = stack;
  const worker = await stack.startWorker({ kind: "fault", label: "w1" });

  const count = 200;
  type Outcome = { ok: true; id: string; ms: number } | { ok: false; error: unknown; ms: number };
  const startedAt = Date.now();
  // Calls start every 10 ms over 2 s; Redis goes down at 0.3 s and comes back at about 1.3 s.
  const calls = Array.from({ length: count }, async (_, i): Promise<Outcome> => {
    await sleep(i * 10);
    const t = Date.now();
    try {
      const row = await createJob("ENRICHMENT", faultJob({ name: `caller ${i}` }), via(stack));
      return { ok: true, id: row.id, ms: Date.now() - t };
    } catch (error) {
      return { ok: false, error, ms: Date.now() - t };
    }
  });
  const restart = (async () => {
    await sleep(300);
    await redis.stop();
    const down = Date.now();
    await sleep(1000);
    await redis.start();
    return { downAt: down - startedAt, upAt: Date.now() - startedAt };
  })();
  const outcomes = await Promise.all(calls);
  const { downAt, upAt } = await restart;

  const okIds = outcomes.flatMap((o) => (o.ok ? [o.id] : []));
  const failures = outcomes.flatMap((o) => (o.ok ? [] : [o]));
  const unexpected = failures.filter((f) => !(isAgentEngineError(f.error) && f.error.code === "QUEUE_UNAVAILABLE" && f.error.jobId));
  const failedIds = failures.flatMap((f) => (isAgentEngineError(f.error) && f.error.jobId ? [f.error.jobId] : []));
  const slowest = Math.max(...outcomes.map((o) => o.ms));
  s.say(
    `${count} createJob calls over 2 s; Redis down from ${downAt} ms to ${upAt} ms: ${okIds.length} returned a row, ` +
      `${failures.length - unexpected.length} QUEUE_UNAVAILABLE naming a saved job, ${unexpected.length} other errors; slowest call ${slowest} ms`,
  );
  for (const f of unexpected.slice(0, 3)) s.say(`  unexpected: ${String((f.error as Error)?.message ?? f.error)}`);
  if (failures.length) s.say(`  e.g. "${(failures[0]!.error as Error).message}"`);
  s.check(unexpected.length === 0, `${unexpected.length} calls failed with something other than QUEUE_UNAVAILABLE naming a job`);
  const ids = [...okIds, ...failedIds];
  s.check(new Set(ids).size === count, `expected ${count} distinct job ids, got ${new Set(ids).size}`);
  s.check(failures.length > 0 && okIds.length > 0, "the restart should have hit some calls and spared others (timing)");

  const finishedFrom = Date.now();
  const rows = await waitForFinished(db, ids, 60_000);
  const total = await db.agentJob.count();
  const statuses = countBy(rows.map((r) => r.status));
  const done = await readCounts(stack, "done", ids);
  const requeued = rows.filter((r) => messages(r).some((m) => m.startsWith("Queued again by the reconciler"))).length;
  s.say(
    `all ${count} finished ${seconds(Date.now() - finishedFrom)} after the calls returned: ${JSON.stringify(statuses)}; rows in the database ${total}; ` +
      `${requeued} requeued by the reconciler; work done per job ${JSON.stringify(countBy(done.map(String)))}`,
  );
  s.check(statuses.COMPLETED === count, "every row should be COMPLETED");
  s.check(total === count, `expected ${count} rows, found ${total}`);
  s.check(done.every((n) => n === 1), "every job's work should run exactly once");
  s.check(worker.alive(), "the worker should survive the restart");
}

/** 11. A handler returns with 200 log writes still in flight; the job ends COMPLETED with all 200. */
async function logsInFlight(s: Scope): Promise<void> {
  const stack = await createStack(s);
  const { db } = stack;
  await stack.startWorker({ kind: "fault", label: "w1" });
  const jobs = await Promise.all(Array.from({ length: 3 }, () => createFault(stack, { faultLogBurst: 200 })));
  const rows = await waitForFinished(db, jobs.map((j) => j.id), 30_000);
  for (const row of rows) {
    const burst = row.logs.filter((l) => /^burst \d+$/.test(String((l as { message?: unknown }).message)));
    const distinct = new Set(burst.map((l) => (l as { data?: { i?: number } }).data?.i)).size;
    const last = messages(row).at(-1);
    s.say(`job ${row.id.slice(0, 8)}: ${row.status}, ${burst.length} burst entries (${distinct} distinct), ${row.logs.length} log entries in all, last "${last}"`);
    s.check(row.status === "COMPLETED", `job ended ${row.status}`);
    s.check(burst.length === 200 && distinct === 200, "all 200 un-awaited log entries should be stored");
    s.check(/^Completed in \d+ ms$/.test(last ?? ""), "the completion entry should come after the handler's entries");
  }
}

// ---------------------------------------------------------------------------------------------

const scenarios: { name: string; run: (s: Scope) => Promise<void>; timeoutMs: number }[] = [
  { name: "retries", run: retries, timeoutMs: 60_000 },
  { name: "crash recovery (kill -9)", run: crashRecovery, timeoutMs: 120_000 },
  { name: "graceful shutdown (SIGTERM)", run: gracefulShutdown, timeoutMs: 90_000 },
  { name: "reconciliation after FLUSHALL", run: reconciliation, timeoutMs: 60_000 },
  { name: "Redis outage", run: redisOutage, timeoutMs: 90_000 },
  { name: "PostgreSQL outage during a job", run: postgresOutage, timeoutMs: 90_000 },
  { name: "idempotency", run: idempotency, timeoutMs: 60_000 },
  { name: "timeouts, cancellation, retry", run: timeoutsAndCancellation, timeoutMs: 60_000 },
  { name: "two workers, 1,000 jobs", run: severalWorkers, timeoutMs: 180_000 },
  { name: "200 creates while Redis restarts", run: createsDuringRedisRestart, timeoutMs: 120_000 },
  { name: "handler returns with log writes in flight", run: logsInFlight, timeoutMs: 60_000 },
];

/** Multiplies every scenario's time limit (a slower machine may need FAULTS_TIMEOUT_SCALE=2). */
const timeoutScale = Number(process.env.FAULTS_TIMEOUT_SCALE ?? 1) || 1;

async function runScenario(index: number, scenario: (typeof scenarios)[number]): Promise<boolean> {
  console.log(`\n[${index + 1}/${scenarios.length}] ${scenario.name}`);
  const scope = createScope(scenario.name);
  const startedAt = Date.now();
  const limitMs = Math.round(scenario.timeoutMs * timeoutScale);
  let failure: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      scenario.run(scope),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CheckFailed(`scenario timed out after ${limitMs} ms`)), limitMs);
      }),
    ]);
  } catch (err) {
    failure = err instanceof CheckFailed ? err.message : ((err as Error)?.stack ?? String(err));
  } finally {
    clearTimeout(timer);
  }
  if (failure) {
    for (const worker of scope.workers) {
      console.log(`    --- last output of worker ${worker.label} (pid ${worker.pid}):`);
      for (const line of worker.lines.slice(-12)) console.log(`      ${line}`);
    }
  }
  const problems = await scope.runCleanups();
  for (const p of problems) console.log(`    cleanup problem: ${p}`);
  const ms = Date.now() - startedAt;
  if (failure) console.log(`  FAIL ${scenario.name} (${seconds(ms)}): ${failure}`);
  else console.log(`  PASS ${scenario.name} (${seconds(ms)})`);
  return !failure;
}

async function main(): Promise<number> {
  // A scenario that timed out may still have calls in flight that fail once its services are gone.
  process.on("unhandledRejection", (err) => console.log(`    (late error from an abandoned scenario: ${(err as Error)?.message ?? String(err)})`));
  // Exiting runs the 'exit' hook in faults/services.ts, which kills every child and removes its files.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      console.log(`\n${signal}: stopping; killing the suite's processes`);
      process.exit(130);
    });
  }
  const wanted = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const startedAt = Date.now();
  let passed = 0;
  let failed = 0;
  for (const [i, scenario] of scenarios.entries()) {
    if (wanted.length && !wanted.includes(i + 1)) continue;
    if (await runScenario(i, scenario)) passed++;
    else failed++;
  }
  console.log(`\nfault suite finished in ${seconds(Date.now() - startedAt)}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`test:faults crashed: ${err.stack ?? err.message}`);
    console.log("0 passed, 1 failed");
    process.exit(1);
  },
);
