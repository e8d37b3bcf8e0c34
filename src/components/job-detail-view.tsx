"use client";

import Link from "next/link";
import { useCallback, useEffect, useRef, useState } from "react";
import type { JobDetail, JobSummary } from "@/lib/agents/state-manager";
import { api } from "@/trpc/react";
import { ConnectionIndicator } from "./connection-indicator";
import { ErrorBanner } from "./error-banner";
import { formatDuration, jobDurationMs, shortId } from "./format";
import { JobActions } from "./job-actions";
import { JobLogView } from "./job-log-view";
import { isFinished } from "./job-status";
import { jobsPath } from "./jobs-url";
import { JsonView } from "./json-view";
import { ProgressBar } from "./progress-bar";
import { ExactTime, RelativeTime } from "./relative-time";
import { StatusBadge } from "./status-badge";
import { useJobChanges } from "./use-job-changes";
import { useNow } from "./use-now";

/**
 * One job, kept current: each change event for it updates the summary fields at once and
 * re-reads the job (logs, output) from the API; a read never replaces a newer state.
 */
export function JobDetailView({
  job: initial,
  since,
  renderedAt,
}: {
  job: JobDetail;
  since: string;
  renderedAt: number;
}) {
  const utils = api.useUtils();
  const [job, setJob] = useState(initial);
  const [loadError, setLoadError] = useState<string | null>(null);
  const latestSeq = useRef(initial.seq);

  const accept = useCallback((next: JobDetail) => {
    if (next.seq < latestSeq.current) return;
    latestSeq.current = next.seq;
    setJob(next);
  }, []);

  // One read at a time; changes during a read cause exactly one more.
  const reading = useRef<"idle" | "busy" | "again">("idle");
  const reload = useCallback(() => {
    if (reading.current !== "idle") {
      reading.current = "again";
      return;
    }
    reading.current = "busy";
    void (async () => {
      do {
        reading.current = "busy";
        try {
          accept(await utils.client.job.byId.query({ id: initial.id }));
          setLoadError(null);
        } catch (err) {
          setLoadError((err as Error).message);
        }
      } while ((reading.current as string) === "again");
      reading.current = "idle";
    })();
  }, [accept, initial.id, utils]);

  const applySummary = useCallback(
    (summary: JobSummary) => {
      if (summary.id !== initial.id || summary.seq <= latestSeq.current) return;
      latestSeq.current = summary.seq;
      setJob((current) => ({ ...current, ...summary }));
      reload();
    },
    [initial.id, reload],
  );

  const live = useJobChanges({ since, jobId: initial.id, onChange: ({ job: changed }) => applySummary(changed) });

  // A reconnect may have skipped intermediate log appends (only the row's latest state is
  // replayed), so read the whole job once the stream is back.
  const wasLive = useRef(true);
  useEffect(() => {
    if (live === "live" && !wasLive.current) reload();
    wasLive.current = live === "live";
  }, [live, reload]);

  const now = useNow(renderedAt, job.status === "RUNNING" ? 1000 : 15_000);
  const duration = jobDurationMs(job, now);
  const finished = isFinished(job.status);
  const cancelling = job.status === "RUNNING" && job.cancelRequestedAt !== null;

  return (
    <article className="detail" aria-labelledby="job-title" data-job-id={job.id}>
      <Link href={jobsPath} className="back-link">
        ← All jobs
      </Link>

      <div className="page-header detail-header">
        <div>
          <p className="eyebrow">{job.type.charAt(0) + job.type.slice(1).toLowerCase()} job</p>
          <h1 id="job-title" className="page-title">
            Job <span className="mono">{shortId(job.id)}</span>
          </h1>
          <div className="detail-status" aria-live="polite">
            <StatusBadge status={job.status} progress={job.progress} cancelling={cancelling} />
            <span className="muted">
              {job.status === "RUNNING"
                ? `attempt ${job.attempts} of ${job.maxAttempts}`
                : job.status === "PENDING" && job.attempts > 0
                  ? `retry after attempt ${job.attempts} of ${job.maxAttempts}`
                  : finished && duration !== null
                    ? `in ${formatDuration(duration)}`
                    : null}
            </span>
          </div>
        </div>
        <div className="page-actions">
          <ConnectionIndicator state={live} />
          <JobActions job={job} onUpdated={applySummary} />
        </div>
      </div>

      {loadError ? <ErrorBanner title="Could not refresh this job">{loadError}</ErrorBanner> : null}

      {job.error ? (
        job.status === "FAILED" ? (
          <div className="banner banner-error" role="alert" data-testid="job-error">
            <div className="banner-body">
              <strong className="banner-title">Failed</strong>
              <div className="banner-text mono-wrap">{job.error}</div>
            </div>
          </div>
        ) : job.status !== "COMPLETED" ? (
          <div className="banner banner-warning" role="status" data-testid="job-error">
            <div className="banner-body">
              <strong className="banner-title">Last attempt failed; another attempt follows</strong>
              <div className="banner-text mono-wrap">{job.error}</div>
            </div>
          </div>
        ) : null
      ) : null}

      <section className="card" aria-labelledby="overview-heading">
        <div className="card-header">
          <h2 id="overview-heading" className="card-title">
            Overview
          </h2>
        </div>
        <ProgressBar value={job.progress} status={job.status} label="Job progress" />
        <dl className="facts">
          <Fact label="Job ID">
            <span className="mono mono-wrap" data-testid="job-id">
              {job.id}
            </span>
          </Fact>
          <Fact label="Type">{job.type}</Fact>
          <Fact label="Attempts">
            {job.attempts} of {job.maxAttempts}
          </Fact>
          <Fact label="Duration">
            {duration === null ? <span className="muted">Not started</span> : formatDuration(duration)}
          </Fact>
          <Fact label="Created">
            <ExactTime date={job.createdAt} now={now} />
          </Fact>
          <Fact label="Started">
            {job.startedAt ? <ExactTime date={job.startedAt} now={now} /> : <span className="muted">—</span>}
          </Fact>
          <Fact label="Finished">
            {job.finishedAt ? <ExactTime date={job.finishedAt} now={now} /> : <span className="muted">—</span>}
          </Fact>
          <Fact label="Last change">
            <RelativeTime date={job.updatedAt} now={now} />
          </Fact>
          {job.idempotencyKey ? (
            <Fact label="Idempotency key">
              <span className="mono mono-wrap">{job.idempotencyKey}</span>
            </Fact>
          ) : null}
          {job.cancelRequestedAt ? (
            <Fact label="Cancel requested">
              <ExactTime date={job.cancelRequestedAt} now={now} />
            </Fact>
          ) : null}
        </dl>
      </section>

      <div className="detail-grid">
        <section className="card" aria-labelledby="input-heading">
          <div className="card-header">
            <h2 id="input-heading" className="card-title">
              Input
            </h2>
          </div>
          <JsonView value={job.input} label="Job input (JSON)" empty="No input." testId="job-input" />
        </section>
        <section className="card" aria-labelledby="output-heading">
          <div className="card-header">
            <h2 id="output-heading" className="card-title">
              Output
            </h2>
          </div>
          <JsonView
            value={job.output}
            label="Job output (JSON)"
            empty={
              job.status === "FAILED"
                ? "No output: the job failed."
                : finished
                  ? "No output."
                  : "Available when the job completes."
            }
            testId="job-output"
          />
        </section>
      </div>

      <section className="card" aria-labelledby="logs-heading">
        <div className="card-header">
          <h2 id="logs-heading" className="card-title">
            Logs <span className="count-pill">{job.logs.length}</span>
          </h2>
          {!finished ? <span className="muted small">Streaming while the job runs</span> : null}
        </div>
        <JobLogView logs={job.logs} streaming={!finished} />
      </section>
    </article>
  );
}

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}
