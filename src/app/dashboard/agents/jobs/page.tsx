import type { Metadata } from "next";
import { ErrorBanner, isDatabaseUnavailable } from "@/components/error-banner";
import { isJobStatus, type JobType, type JobTypeInfo } from "@/components/job-status";
import { JobsDashboard } from "@/components/jobs-dashboard";
import { jobsUrl, type JobFilters } from "@/components/jobs-url";
import { getDb } from "@/lib/db";
import {
  DEFAULT_PAGE_SIZE,
  decodeJobCursor,
  encodeJobCursor,
  getJobChangeCursor,
  getJobStats,
} from "@/lib/agents/job-queries";
import { isJobType, jobTypeNames, jobTypes } from "@/lib/agents/job-types";
import { jobSummarySelect } from "@/lib/agents/state-manager";

// Jobs change every second: render on each request, never from a build-time snapshot.
export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Jobs · Agent Engine" };

type SearchParams = Record<string, string | string[] | undefined>;

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function jobTypeInfos(): JobTypeInfo[] {
  return jobTypeNames.map((type) => {
    const def = jobTypes[type];
    return {
      type,
      description: def.description,
      example: def.example,
      attempts: def.attempts,
      timeoutMs: def.timeoutMs,
    };
  });
}

/**
 * One page of jobs (newest first, keyset on createdAt/id, the cursor format job.list uses), the
 * counts per status, and the change-feed position the browser's live subscription starts from.
 */
async function loadJobsPage(filters: JobFilters, after: { createdAt: Date; id: string } | null, pageSize: number) {
  const db = getDb();
  const renderedAt = Date.now();
  // The feed position is read first: a change that lands between this read and the rows below
  // is then replayed to the browser (and ignored if already shown), never lost.
  const since = await getJobChangeCursor(db);
  const [rows, stats] = await Promise.all([
    db.agentJob.findMany({
      where: {
        ...(filters.status ? { status: filters.status } : {}),
        ...(filters.type ? { type: filters.type } : {}),
        ...(after
          ? {
              createdAt: { lte: after.createdAt },
              OR: [{ createdAt: { lt: after.createdAt } }, { id: { lt: after.id } }],
            }
          : {}),
      },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: pageSize + 1,
      select: jobSummarySelect,
    }),
    getJobStats(db),
  ]);
  const jobs = rows.slice(0, pageSize);
  const last = jobs.at(-1);
  return {
    renderedAt,
    since,
    jobs,
    counts: stats.counts,
    nextCursor: rows.length > pageSize && last ? encodeJobCursor(last) : null,
  };
}

function PageHeading() {
  return (
    <div className="page-header">
      <div>
        <h1 className="page-title">Agent jobs</h1>
        <p className="page-subtitle">Every job and its state, updated the moment it changes.</p>
      </div>
    </div>
  );
}

export default async function JobsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const status = single(params.status);
  const type = single(params.type);
  const filters: JobFilters = {
    status: isJobStatus(status) ? status : null,
    type: isJobType(type) ? (type as JobType) : null,
  };
  const cursor = single(params.cursor) || null;

  let after: { createdAt: Date; id: string } | null = null;
  if (cursor) {
    try {
      after = decodeJobCursor(cursor);
    } catch {
      return (
        <div className="dashboard">
          <PageHeading />
          <ErrorBanner
            title="This page link is no longer valid"
            action={
              <a className="button button-secondary" href={jobsUrl(filters)}>
                Go to the newest jobs
              </a>
            }
          >
            The page cursor in the address could not be read.
          </ErrorBanner>
        </div>
      );
    }
  }

  const pageSize = DEFAULT_PAGE_SIZE;
  let data: Awaited<ReturnType<typeof loadJobsPage>>;
  try {
    data = await loadJobsPage(filters, after, pageSize);
  } catch (err) {
    const unavailable = isDatabaseUnavailable(err);
    console.error(`[dashboard] could not load jobs: ${(err as Error)?.message?.trim()}`);
    return (
      <div className="dashboard">
        <PageHeading />
        <ErrorBanner
          title={unavailable ? "The job database is not reachable" : "The jobs could not be loaded"}
          action={
            <a className="button button-secondary" href={jobsUrl(filters, cursor)}>
              Try again
            </a>
          }
        >
          {unavailable
            ? "Jobs keep their state in PostgreSQL, and the dashboard cannot read it right now. Jobs already queued are not lost; this page will show them once the database is back."
            : "Something went wrong while reading the jobs. Try again in a moment."}
        </ErrorBanner>
      </div>
    );
  }

  return (
    <JobsDashboard
      // A new filter or page starts a fresh live view; router.refresh() keeps this one and merges.
      key={`${filters.status ?? ""}|${filters.type ?? ""}|${cursor ?? ""}`}
      jobs={data.jobs}
      counts={data.counts}
      since={data.since}
      renderedAt={data.renderedAt}
      filters={filters}
      cursor={cursor}
      nextCursor={data.nextCursor}
      pageSize={pageSize}
      types={jobTypeInfos()}
    />
  );
}
