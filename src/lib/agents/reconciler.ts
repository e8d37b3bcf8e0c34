import type { Queue } from "bullmq";
import type { Prisma } from "../../generated/prisma/client.ts";
import type { Db } from "../db.ts";
import { enqueueJob, jobSummarySelect, logEntry, type JobSummary } from "./state-manager.ts";

export type ReconcileReport = {
  checked: number;
  /** PENDING rows whose queue job was gone (Redis emptied, failed enqueue): queued again. */
  requeuedPending: number;
  /** RUNNING rows whose worker died or whose queue job was gone: back to PENDING and queued. */
  recoveredRunning: number;
  /** RUNNING rows whose queue job failed without the worker recording it (stalled too often). */
  failedStalled: number;
};

const live = new Set(["waiting", "delayed", "prioritized", "waiting-children", "active"]);

export type ReconcileOptions = {
  db: Db;
  queue: Queue;
  /** Rows changed more recently than this are left alone (their enqueue may still be under way). */
  graceMs: number;
  /** Rows looked at per pass, oldest change first. Default 500. */
  batchSize?: number;
  /**
   * Tells live views about a repaired row; no BullMQ event reports these changes.
   * Default: nothing (the views see the row when they next read or reconnect).
   */
  announce?: (job: JobSummary) => Promise<unknown>;
};

/**
 * One pass of the database-is-the-truth check: every unfinished row should have a live queue job.
 * Each repair is a conditional update on the row's `seq`, so a row that changed meanwhile (the
 * worker finished it) is never touched, and several workers may reconcile at once.
 */
export async function reconcileOnce(opts: ReconcileOptions): Promise<ReconcileReport> {
  const report: ReconcileReport = { checked: 0, requeuedPending: 0, recoveredRunning: 0, failedStalled: 0 };
  const rows = await opts.db.agentJob.findMany({
    where: { status: { in: ["PENDING", "RUNNING"] }, updatedAt: { lt: new Date(Date.now() - opts.graceMs) } },
    select: { id: true, type: true, status: true, seq: true, maxAttempts: true },
    orderBy: { updatedAt: "asc" },
    take: opts.batchSize ?? 500,
  });
  for (const row of rows) {
    report.checked++;
    const state = await opts.queue.getJobState(row.id);
    const unchanged = { id: row.id, status: row.status, seq: row.seq };
    const mark = async (data: Prisma.AgentJobUpdateManyMutationInput) => {
      if ((await opts.db.agentJob.updateMany({ where: unchanged, data })).count !== 1) return false;
      if (opts.announce) {
        const job = await opts.db.agentJob.findUnique({ where: { id: row.id }, select: jobSummarySelect });
        if (job) await opts.announce(job).catch(() => {});
      }
      return true;
    };

    if (row.status === "RUNNING" && state === "active") continue;
    if (row.status === "PENDING" && live.has(state)) continue;

    if (row.status === "RUNNING" && state === "failed") {
      const job = await opts.queue.getJob(row.id);
      const reason = job?.failedReason || "the queue job failed without its worker recording why";
      const error = /stalled/i.test(reason) ? `Stalled: ${reason}` : `Failed in the queue: ${reason}`;
      if (await mark({ status: "FAILED", error, finishedAt: new Date(), logs: { push: logEntry("error", error) as Prisma.InputJsonValue } })) {
        report.failedStalled++;
      }
      continue;
    }
    if (row.status === "RUNNING" && live.has(state)) {
      // BullMQ already moved the stalled job back to the queue; the row just says so too.
      const note = "The worker running this attempt stopped; the job is queued to run again";
      if (await mark({ status: "PENDING", logs: { push: logEntry("warn", note) as Prisma.InputJsonValue } })) {
        report.recoveredRunning++;
      }
      continue;
    }
    // No live queue job at all: queue it again.
    const note = `Queued again by the reconciler: the queue had no live job for this ${row.status} row (state: ${state})`;
    if (!(await mark({ status: "PENDING", error: null, logs: { push: logEntry("warn", note) as Prisma.InputJsonValue } }))) continue;
    // A finished copy with the same id would make add() a no-op.
    if (state !== "unknown") await opts.queue.remove(row.id).catch(() => {});
    await enqueueJob(opts.queue, row);
    if (row.status === "PENDING") report.requeuedPending++;
    else report.recoveredRunning++;
  }
  return report;
}

export type Reconciler = {
  /** Totals since start, for logs and tests. */
  totals: ReconcileReport;
  runNow: () => Promise<ReconcileReport>;
  stop: () => Promise<void>;
};

/** Runs reconcileOnce every `intervalMs` (never two passes at once) and logs what it repaired. */
export function startReconciler(opts: ReconcileOptions & { intervalMs: number; log?: (line: string) => void }): Reconciler {
  const log = opts.log ?? ((line: string) => console.log(line));
  const totals: ReconcileReport = { checked: 0, requeuedPending: 0, recoveredRunning: 0, failedStalled: 0 };
  let running: Promise<ReconcileReport> | undefined;

  const runNow = () => {
    running ??= reconcileOnce(opts)
      .then((r) => {
        for (const k of Object.keys(totals) as (keyof ReconcileReport)[]) totals[k] += r[k];
        if (r.requeuedPending || r.recoveredRunning || r.failedStalled) {
          log(
            `[reconciler] repaired ${r.requeuedPending + r.recoveredRunning + r.failedStalled} of ${r.checked} checked: ` +
              `${r.requeuedPending} PENDING requeued, ${r.recoveredRunning} RUNNING recovered, ${r.failedStalled} failed as stalled ` +
              `(since start: ${totals.requeuedPending}/${totals.recoveredRunning}/${totals.failedStalled})`,
          );
        }
        return r;
      })
      .catch((err: Error) => {
        log(`[reconciler] pass failed: ${err.message}`);
        return { checked: 0, requeuedPending: 0, recoveredRunning: 0, failedStalled: 0 };
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const timer = opts.intervalMs > 0 ? setInterval(() => void runNow(), opts.intervalMs) : undefined;
  timer?.unref();
  return {
    totals,
    runNow,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
