import Link from "next/link";

export default function JobNotFound() {
  return (
    <div className="empty page-empty" data-testid="job-not-found">
      <p className="empty-title">Job not found</p>
      <p className="muted">
        No job has this id. It may have been mistyped, or the link belongs to another environment.
      </p>
      <Link href="/dashboard/agents/jobs" className="button button-secondary">
        Back to all jobs
      </Link>
    </div>
  );
}
