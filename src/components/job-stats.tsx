import Link from "next/link";
import { jobStatuses, statusLabels, type JobCounts } from "./job-status";
import { jobsUrl, type JobFilters } from "./jobs-url";

const numberFormat = new Intl.NumberFormat("en");

/** Counts per status; each card filters the list to that status (the type filter is kept). */
export function JobStats({ counts, total, filters }: { counts: JobCounts; total: number; filters: JobFilters }) {
  return (
    <nav aria-label="Jobs by status" className="stats">
      <Link
        href={jobsUrl({ type: filters.type })}
        className="stat stat-all"
        aria-current={filters.status === null ? "page" : undefined}
        data-testid="stat-ALL"
      >
        <span className="stat-label">All jobs</span>
        <span className="stat-value">{numberFormat.format(total)}</span>
      </Link>
      {jobStatuses.map((status) => (
        <Link
          key={status}
          href={jobsUrl({ status, type: filters.type })}
          className={`stat stat-${status.toLowerCase()}`}
          aria-current={filters.status === status ? "page" : undefined}
          data-testid={`stat-${status}`}
        >
          <span className="stat-label">
            <span className="stat-dot" aria-hidden="true" />
            {statusLabels[status]}
          </span>
          <span className="stat-value" data-testid={`count-${status}`}>
            {numberFormat.format(counts[status])}
          </span>
        </Link>
      ))}
    </nav>
  );
}
