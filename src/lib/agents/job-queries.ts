import type { Prisma } from "../../generated/prisma/client.ts";
import { AgentJobStatus, type AgentJobType } from "../../generated/prisma/enums.ts";
import { getDb, type Db } from "../db.ts";
import { AgentEngineError } from "../errors.ts";
import { jobDetailSelect, jobSummarySelect, toDatabaseError, type JobDetail, type JobSummary } from "./state-manager.ts";

/**
 * Read side of AgentJob shared by the API and the dashboard's Server Components: list pages,
 * one job, counts per status, and the change feed (rows ordered by `seq`).
 */

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;
/** Rows one change-feed query returns at most. */
export const MAX_CHANGES_PER_QUERY = 1000;

export type ListJobsOptions = {
  status?: AgentJobStatus;
  type?: AgentJobType;
  /** `nextCursor` of the previous page; absent or null for the first page. */
  cursor?: string | null;
  /** 1..100. Default: 25. */
  limit?: number;
};

export type JobPage = { items: JobSummary[]; nextCursor: string | null };

export type JobStats = { counts: Record<AgentJobStatus, number>; total: number };

type PageCursor = { createdAt: Date; id: string };

/** Opaque to clients: base64url of `[createdAt in ms, id]` of the last row of a page. */
export function encodeJobCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.createdAt.getTime(), row.id]), "utf8").toString("base64url");
}

/** Throws INVALID_INPUT (field `cursor`) for anything encodeJobCursor did not produce. */
export function decodeJobCursor(cursor: string): PageCursor {
  const invalid = () =>
    new AgentEngineError("INVALID_INPUT", "Invalid page cursor", {
      fieldErrors: { cursor: ["Invalid page cursor; start again from the first page"] },
    });
  if (cursor.length > 400 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid();
  const [ms, id] = parsed as [unknown, unknown];
  // Year 0..9999 and plain text: anything else cannot have come from this API and would make
  // PostgreSQL reject the query.
  if (typeof ms !== "number" || !Number.isSafeInteger(ms) || ms < -62167219200000 || ms > 253402300799999) throw invalid();
  if (typeof id !== "string" || !id || id.length > 200 || id.includes("\u0000") || !id.isWellFormed()) throw invalid();
  const createdAt = new Date(ms);
  if (Number.isNaN(createdAt.getTime())) throw invalid();
  return { createdAt, id };
}

/**
 * Newest first, keyset-paginated on (createdAt desc, id desc), so page 4,000 costs what page 1
 * does. The plain `createdAt <= c` bound is what lets PostgreSQL start the index scan at the
 * cursor; the OR only breaks ties between rows created in the same millisecond.
 */
export async function listJobs(opts: ListJobsOptions = {}, db: Db = getDb()): Promise<JobPage> {
  const limit = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(opts.limit ?? DEFAULT_PAGE_SIZE)));
  const after = opts.cursor ? decodeJobCursor(opts.cursor) : null;
  const where: Prisma.AgentJobWhereInput = {
    ...(opts.status ? { status: opts.status } : {}),
    ...(opts.type ? { type: opts.type } : {}),
    ...(after
      ? {
          createdAt: { lte: after.createdAt },
          OR: [{ createdAt: { lt: after.createdAt } }, { id: { lt: after.id } }],
        }
      : {}),
  };
  let rows: JobSummary[];
  try {
    rows = await db.agentJob.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: limit + 1,
      select: jobSummarySelect,
    });
  } catch (err) {
    throw toDatabaseError(err);
  }
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeJobCursor(last) : null };
}

/** The job with input, output and logs; throws NOT_FOUND. */
export async function getJob(id: string, db: Db = getDb()): Promise<JobDetail> {
  let job: JobDetail | null;
  try {
    job = await db.agentJob.findUnique({ where: { id }, select: jobDetailSelect });
  } catch (err) {
    throw toDatabaseError(err);
  }
  if (!job) throw new AgentEngineError("NOT_FOUND", `No job with id ${id}`);
  return job;
}

/** Jobs per status; every status is present, zero when it has no jobs. */
export async function getJobStats(db: Db = getDb()): Promise<JobStats> {
  const counts = Object.fromEntries(Object.values(AgentJobStatus).map((s) => [s, 0])) as Record<AgentJobStatus, number>;
  try {
    const groups = await db.agentJob.groupBy({ by: ["status"], _count: { _all: true } });
    for (const g of groups) counts[g.status] = g._count._all;
  } catch (err) {
    throw toDatabaseError(err);
  }
  return { counts, total: Object.values(counts).reduce((a, b) => a + b, 0) };
}

/**
 * Rows changed after `afterSeq`, oldest change first, each in its current state (the table keeps
 * one snapshot per job, so a job changed ten times appears once). Page with the last row's seq.
 */
export async function listJobChangesSince(
  afterSeq: bigint,
  opts: { jobId?: string; limit?: number } = {},
  db: Db = getDb(),
): Promise<JobSummary[]> {
  const take = Math.min(MAX_CHANGES_PER_QUERY, Math.max(1, Math.trunc(opts.limit ?? MAX_CHANGES_PER_QUERY)));
  try {
    return await db.agentJob.findMany({
      where: { seq: { gt: afterSeq }, ...(opts.jobId ? { id: opts.jobId } : {}) },
      orderBy: { seq: "asc" },
      take,
      select: jobSummarySelect,
    });
  } catch (err) {
    throw toDatabaseError(err);
  }
}

/**
 * The change feed's current position, as a subscription's `lastEventId`. Read it BEFORE the rows
 * a page renders: a change between the two reads is then delivered again (harmless, clients keep
 * the higher seq) instead of being lost.
 */
export async function getJobChangeCursor(db: Db = getDb()): Promise<string> {
  try {
    const { _max } = await db.agentJob.aggregate({ _max: { seq: true } });
    return String(_max.seq ?? 0n);
  } catch (err) {
    throw toDatabaseError(err);
  }
}
