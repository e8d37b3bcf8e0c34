export default function JobLoading() {
  return (
    <div className="detail" aria-busy="true" aria-live="polite">
      <p className="muted">Loading job…</p>
      <div className="card">
        <div className="skeleton-row" />
        <div className="skeleton-row" />
        <div className="skeleton-row" />
      </div>
      <div className="detail-grid">
        <div className="card skeleton-form" />
        <div className="card skeleton-form" />
      </div>
    </div>
  );
}
