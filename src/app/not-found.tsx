import Link from "next/link";

export default function NotFound() {
  return (
    <div className="empty page-empty">
      <p className="empty-title">Page not found</p>
      <p className="muted">There is nothing at this address.</p>
      <Link href="/dashboard/agents/jobs" className="button button-secondary">
        Go to the jobs dashboard
      </Link>
    </div>
  );
}
