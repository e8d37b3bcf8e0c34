"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useRef, useState, useTransition } from "react";
import type { JobDetail, JobSummary } from "@/lib/agents/state-manager";
import { api } from "@/trpc/react";
import { ConnectionIndicator } from "./connection-indicator";
import { CreateJobForm } from "./create-job-form";
import { shortId } from "./format";
import { JobFiltersBar } from "./job-filters";
import { JobStats } from "./job-stats";
import { statusLabels, type JobCounts, type JobTypeInfo } from "./job-status";
import { JobTable } from "./job-table";
import { jobsUrl, type JobFilters } from "./jobs-url";
import { useJobChanges } from "./use-job-changes";
import { useNow } from "./use-now";

export type JobsDashboardProps = {
  jobs: JobSummary[];
  counts: JobCounts;
  /** Highest change-feed seq when the page's data was read; the live feed starts after it. */
  since: string | null;
  /** Server time of the render (ms), so relative times render the same on server and browser. */
  renderedAt: number;
  filters: JobFilters;
  /** The page's cursor; null on the first (newest) page. */
  cursor: string | null;
  nextCursor: string | null;
  pageSize: number;
  types: JobTypeInfo[];
};

/** Newest first, then id descending: the same order as the server's keyset pagination. */
function newerFirst(a: JobSummary, b: JobSummary): number {
  const byTime = b.createdAt.getTime() - a.createdAt.getTime();
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function toSummary(job: JobDetail | JobSummary): JobSummary {
  const { input: _input, output: _output, logs: _logs, ...summary } = job as JobDetail;
  return summary;
}

function sumCounts(counts: JobCounts): number {
  return counts.PENDING + counts.RUNNING + counts.COMPLETED + counts.FAILED;
}

/**
 * The live half of the dashboard: starts from the server-rendered page and applies job.onChange
 * events in place. A row only ever moves to a newer seq, so late or replayed events cannot roll it back.
 */
export function JobsDashboard(props: JobsDashboardProps) {
  const { filters, cursor, nextCursor, pageSize, types } = props;
  const router = useRouter();
  const utils = api.useUtils();
  const [refreshing, startRefresh] = useTransition();

  const [rows, setRows] = useState(props.jobs);
  const [counts, setCounts] = useState(props.counts);
  const [newElsewhere, setNewElsewhere] = useState(0);
  const [announcement, setAnnouncement] = useState("");

  // Last known status and seq of every job this page has heard of, for count deltas.
  const [knownJobs] = useState(() => new Map(props.jobs.map((j) => [j.id, { status: j.status, seq: j.seq }])));
  const known = useRef(knownJobs);
  // The server snapshot the rows were last merged from.
  const snapshotJobs = useRef(props.jobs);

  const seed = useCallback((jobs: JobSummary[]) => {
    for (const job of jobs) {
      const seen = known.current.get(job.id);
      if (!seen || seen.seq < job.seq) known.current.set(job.id, { status: job.status, seq: job.seq });
    }
  }, []);

  const matches = useCallback(
    (job: JobSummary) =>
      (!filters.status || job.status === filters.status) && (!filters.type || job.type === filters.type),
    [filters.status, filters.type],
  );

  // Counts are kept live from known transitions; a trailing re-read of job.stats corrects
  // whatever cannot be derived (jobs this page never saw, bursts).
  const statsTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const scheduleStats = useCallback(() => {
    if (statsTimer.current) return;
    statsTimer.current = setTimeout(() => {
      statsTimer.current = undefined;
      utils.client.job.stats
        .query()
        .then((stats) => setCounts(stats.counts))
        .catch(() => {});
    }, 1200);
  }, [utils]);
  useEffect(() => () => clearTimeout(statsTimer.current), []);

  // router.refresh() hands in a new server snapshot: it decides which rows belong on the page,
  // but a row the live feed already moved further (or added after that snapshot) wins.
  useEffect(() => {
    if (snapshotJobs.current === props.jobs) return;
    snapshotJobs.current = props.jobs;
    seed(props.jobs);
    setRows((current) => {
      const byId = new Map(current.map((j) => [j.id, j]));
      const merged = props.jobs.map((job) => {
        const local = byId.get(job.id);
        return local && local.seq > job.seq ? local : job;
      });
      const serverIds = new Set(props.jobs.map((j) => j.id));
      const since = props.since === null ? null : BigInt(props.since);
      for (const job of current) {
        if (!serverIds.has(job.id) && since !== null && job.seq > since) merged.push(job);
      }
      return merged.sort(newerFirst);
    });
    setCounts(props.counts);
    setNewElsewhere(0);
    // A row the feed moved past this snapshot is not in its counts: re-read them shortly.
    scheduleStats();
  }, [props.jobs, props.counts, props.since, seed, scheduleStats]);

  const apply = useCallback(
    (job: JobSummary) => {
      const seen = known.current.get(job.id);
      if (seen && seen.seq >= job.seq) return;
      known.current.set(job.id, { status: job.status, seq: job.seq });
      if (cursor && !seen && matches(job) && job.createdAt.getTime() >= props.renderedAt) {
        // Not on the newest page: say there is something new rather than shuffle this page.
        setNewElsewhere((n) => n + 1);
      }
      if (seen && seen.status !== job.status) {
        const from = seen.status;
        setCounts((c) => ({
          ...c,
          [from]: Math.max(0, c[from] - 1),
          [job.status]: c[job.status] + 1,
        }));
        if (job.status === "COMPLETED" || job.status === "FAILED") {
          setAnnouncement(`Job ${shortId(job.id)} ${statusLabels[job.status].toLowerCase()}`);
        }
      }
      scheduleStats();

      setRows((current) => {
        const index = current.findIndex((r) => r.id === job.id);
        if (index >= 0) {
          if (current[index]!.seq >= job.seq) return current;
          const next = current.slice();
          next[index] = job;
          return next;
        }
        if (!matches(job) || cursor) return current;
        // On the first page, a job belongs here if it sorts before the page's oldest row.
        const oldest = current[current.length - 1];
        if (current.length >= pageSize && oldest && newerFirst(job, oldest) > 0) return current;
        return [...current, job].sort(newerFirst);
      });
    },
    [matches, cursor, pageSize, props.renderedAt, scheduleStats],
  );

  const onCreated = useCallback(
    (job: JobDetail) => {
      const summary = toSummary(job);
      if (!known.current.has(summary.id)) {
        // A job created from this page after its snapshot: count it now rather than wait for the re-read.
        known.current.set(summary.id, {
          status: summary.status,
          seq: summary.seq - 1n,
        });
        setCounts((c) => ({ ...c, [summary.status]: c[summary.status] + 1 }));
      }
      apply(summary);
    },
    [apply],
  );

  const live = useJobChanges({
    since: props.since,
    onChange: ({ job }) => apply(job),
  });

  const hasRunning = rows.some((r) => r.status === "RUNNING");
  const now = useNow(props.renderedAt, hasRunning ? 1000 : 15_000);
  const total = sumCounts(counts);
  const filtered = filters.status !== null || filters.type !== null;
  const isStale = useCallback((job: JobSummary) => !matches(job), [matches]);

  return (
    <div className="dashboard">
      <div className="page-header">
        <div>
          <h1 className="page-title">Agent jobs</h1>
          <p className="page-subtitle">Every job and its state, updated the moment it changes.</p>
        </div>
        <div className="page-actions">
          <ConnectionIndicator state={live} />
          <button
            type="button"
            className="button button-secondary"
            onClick={() => startRefresh(() => router.refresh())}
            disabled={refreshing}
            data-testid="refresh"
          >
            <svg
              aria-hidden="true"
              width="16"
              height="16"
              viewBox="0 0 24 24"
              fill="none"
              stroke="currentColor"
              strokeWidth="2"
              strokeLinecap="round"
              strokeLinejoin="round"
              className={refreshing ? "spin" : undefined}
            >
              <path d="M21 12a9 9 0 1 1-2.64-6.36" />
              <path d="M21 3v6h-6" />
            </svg>
            {refreshing ? "Refreshing…" : "Refresh"}
          </button>
        </div>
      </div>

      <JobStats counts={counts} total={total} filters={filters} />

      <div className="dashboard-grid">
        <section className="card jobs-card" aria-labelledby="jobs-heading">
          <div className="card-header jobs-header">
            <h2 id="jobs-heading" className="card-title">
              {filtered ? "Matching jobs" : "Recent jobs"}
            </h2>
            <JobFiltersBar filters={filters} types={types} />
          </div>

          {newElsewhere > 0 ? (
            <div className="banner banner-info" role="status">
              <span>
                {newElsewhere} new job{newElsewhere === 1 ? "" : "s"} since this page loaded.
              </span>
              <Link href={jobsUrl(filters)} className="link-button">
                Show newest
              </Link>
            </div>
          ) : null}

          {rows.length ? (
            <JobTable jobs={rows} now={now} isStale={isStale} onUpdated={apply} />
          ) : (
            <EmptyState filtered={filtered} paged={cursor !== null} filters={filters} />
          )}

          {rows.length || cursor || nextCursor ? (
            <nav className="pager" aria-label="Pages">
              <span className="muted pager-info">
                {rows.length ? `${rows.length} job${rows.length === 1 ? "" : "s"} on this page, newest first` : ""}
              </span>
              <div className="pager-links">
                {cursor ? (
                  <Link href={jobsUrl(filters)} className="button button-secondary button-sm">
                    ← Newest
                  </Link>
                ) : null}
                {nextCursor ? (
                  <Link href={jobsUrl(filters, nextCursor)} className="button button-secondary button-sm" rel="next">
                    Older →
                  </Link>
                ) : null}
              </div>
            </nav>
          ) : null}
        </section>

        <aside className="dashboard-aside">
          <CreateJobForm types={types} onCreated={onCreated} />
        </aside>
      </div>

      <p className="visually-hidden" aria-live="polite" aria-atomic="true">
        {announcement}
      </p>
    </div>
  );
}

function EmptyState({ filtered, paged, filters }: { filtered: boolean; paged: boolean; filters: JobFilters }) {
  if (paged) {
    return (
      <div className="empty" data-testid="empty-state">
        <p className="empty-title">No older jobs</p>
        <p className="muted">You have reached the end of the list.</p>
        <Link href={jobsUrl(filters)} className="button button-secondary button-sm">
          Back to newest
        </Link>
      </div>
    );
  }
  if (filtered) {
    return (
      <div className="empty" data-testid="empty-state">
        <p className="empty-title">No jobs match these filters</p>
        <p className="muted">New matching jobs will appear here as they are created.</p>
        <Link href={jobsUrl({})} className="button button-secondary button-sm">
          Clear filters
        </Link>
      </div>
    );
  }
  return (
    <div className="empty" data-testid="empty-state">
      <svg
        aria-hidden="true"
        width="40"
        height="40"
        viewBox="0 0 24 24"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.5"
        strokeLinecap="round"
        strokeLinejoin="round"
      >
        <rect x="3" y="4" width="18" height="16" rx="2" />
        <path d="M3 9h18M8 14h3" />
      </svg>
      <p className="empty-title">No jobs yet</p>
      <p className="muted">
        Create one with the form: pick a type, adjust the example input and submit. It will show up here and update
        live.
      </p>
    </div>
  );
}
