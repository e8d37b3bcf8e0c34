"use client";

import type { JobSummary } from "@/lib/agents/state-manager";
import { api } from "@/trpc/react";

type ActionJob = Pick<JobSummary, "id" | "status" | "cancelRequestedAt">;

/**
 * Cancel (PENDING, RUNNING) and Retry (FAILED). The returned row is handed to `onUpdated` at once;
 * the live feed brings later changes.
 */
export function JobActions({
  job,
  onUpdated,
  compact = false,
}: {
  job: ActionJob;
  onUpdated?: (job: JobSummary) => void;
  compact?: boolean;
}) {
  const cancel = api.job.cancel.useMutation({ onSuccess: (updated) => onUpdated?.(updated) });
  const retry = api.job.retry.useMutation({ onSuccess: (updated) => onUpdated?.(updated) });
  const busy = cancel.isPending || retry.isPending;
  const error = cancel.error ?? retry.error;
  const cancelling = job.status === "RUNNING" && job.cancelRequestedAt !== null;
  const short = job.id.slice(0, 8);

  const buttons = [];
  if (job.status === "PENDING" || job.status === "RUNNING") {
    buttons.push(
      <button
        key="cancel"
        type="button"
        className={`button button-danger${compact ? " button-sm" : ""}`}
        disabled={busy || cancelling}
        aria-label={compact ? `Cancel job ${short}` : undefined}
        onClick={() => {
          retry.reset();
          cancel.mutate({ id: job.id });
        }}
      >
        {cancelling ? "Cancelling…" : cancel.isPending ? "Cancelling…" : "Cancel"}
      </button>,
    );
  }
  if (job.status === "FAILED") {
    buttons.push(
      <button
        key="retry"
        type="button"
        className={`button button-secondary${compact ? " button-sm" : ""}`}
        disabled={busy}
        aria-label={compact ? `Retry job ${short}` : undefined}
        onClick={() => {
          cancel.reset();
          retry.mutate({ id: job.id });
        }}
      >
        {retry.isPending ? "Retrying…" : "Retry"}
      </button>,
    );
  }
  if (!buttons.length && !error) return null;
  return (
    <div className={compact ? "actions actions-compact" : "actions"}>
      {buttons}
      {error ? (
        <span className="action-error" role="alert">
          {error.message}
        </span>
      ) : null}
    </div>
  );
}
