/** Shown while the server reads the jobs; mirrors the dashboard's layout so nothing jumps. */
export default function JobsLoading() {
  return (
    <div className="dashboard" aria-busy="true" aria-live="polite">
      <div className="page-header">
        <div>
          <h1 className="page-title">Agent jobs</h1>
          <p className="page-subtitle">Loading jobs…</p>
        </div>
      </div>
      <div className="stats">
        {Array.from({ length: 5 }, (_, i) => (
          <div key={i} className="stat skeleton-block" />
        ))}
      </div>
      <div className="dashboard-grid">
        <div className="card jobs-card">
          {Array.from({ length: 8 }, (_, i) => (
            <div key={i} className="skeleton-row" />
          ))}
        </div>
        <div className="card skeleton-form" />
      </div>
    </div>
  );
}
