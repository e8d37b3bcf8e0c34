"use client";

import Link from "next/link";
import type { JobSummary } from "@/lib/agents/state-manager";
import { formatDuration, jobDurationMs, shortId } from "./format";
import { JobActions } from "./job-actions";
import { jobUrl } from "./jobs-url";
import { RelativeTime } from "./relative-time";
import { StatusBadge } from "./status-badge";

function typeLabel(type: string): string {
  return type.charAt(0) + type.slice(1).toLowerCase();
}

/**
 * The jobs list. A table on wide screens; below 720 px each row becomes a card (CSS only),
 * with every cell labelled through data-label.
 */
export function JobTable({
  jobs,
  now,
  isStale,
  onUpdated,
}: {
  jobs: JobSummary[];
  now: number;
  /** Rows that no longer match the active filters stay until the next refresh, dimmed. */
  isStale: (job: JobSummary) => boolean;
  onUpdated: (job: JobSummary) => void;
}) {
  return (
    <div className="table-wrap">
      <table className="job-table" data-testid="job-table">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col" className="num">
              Duration
            </th>
            <th scope="col" className="num">
              Attempts
            </th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => {
            const duration = jobDurationMs(job, now);
            const stale = isStale(job);
            return (
              <tr
                key={job.id}
                data-job-id={job.id}
                data-status={job.status}
                className={stale ? "row-stale" : undefined}
                title={stale ? "No longer matches the filters; it leaves the list on refresh" : undefined}
              >
                <td data-label="Job" className="cell-id">
                  <Link
                    href={jobUrl(job.id)}
                    className="mono job-link"
                    title={job.id}
                    aria-label={`Job ${shortId(job.id)}, details`}
                  >
                    {shortId(job.id)}
                  </Link>
                </td>
                <td data-label="Type">{typeLabel(job.type)}</td>
                <td data-label="Status" className="cell-status">
                  <StatusBadge
                    key={job.status}
                    status={job.status}
                    progress={job.progress}
                    cancelling={job.cancelRequestedAt !== null}
                  />
                  {job.status !== "COMPLETED" && job.error ? (
                    <span className="cell-error" title={job.error}>
                      {job.error}
                    </span>
                  ) : null}
                </td>
                <td data-label="Created">
                  <RelativeTime date={job.createdAt} now={now} />
                </td>
                <td data-label="Duration" className="num">
                  {duration === null ? <span className="muted">—</span> : formatDuration(duration)}
                </td>
                <td data-label="Attempts" className="num">
                  {job.attempts}/{job.maxAttempts}
                </td>
                <td data-label="Actions" className="cell-actions">
                  <JobActions job={job} onUpdated={onUpdated} compact />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
