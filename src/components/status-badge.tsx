import type { JobStatus } from "./job-status";
import { statusLabels } from "./job-status";

/**
 * COMPLETED green, FAILED red, PENDING yellow; RUNNING is yellow too but carries a pulsing dot
 * and its progress, so a job that is actually working stands out from one that waits.
 */
export function StatusBadge({
  status,
  progress,
  cancelling,
}: {
  status: JobStatus;
  progress?: number;
  cancelling?: boolean;
}) {
  const label = cancelling && status === "RUNNING" ? "Cancelling" : statusLabels[status];
  return (
    <span className={`badge badge-${status.toLowerCase()}`} data-status={status} data-testid="status-badge">
      <span className="badge-dot" aria-hidden="true" />
      {label}
      {status === "RUNNING" && progress !== undefined ? <span className="badge-progress">{progress}%</span> : null}
    </span>
  );
}
