import type { ReactNode } from "react";

/** A visible, announced error with an optional action (retry, go back). */
export function ErrorBanner({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="banner banner-error" role="alert" data-testid="error-banner">
      <div className="banner-body">
        <strong className="banner-title">{title}</strong>
        {children ? <div className="banner-text">{children}</div> : null}
      </div>
      {action ? <div className="banner-action">{action}</div> : null}
    </div>
  );
}

const unreachableCodes = new Set(["DATABASE_UNAVAILABLE", "P1001", "P1002", "P1008", "P1017", "P2024"]);

/**
 * True when a failed read means "PostgreSQL cannot be reached" (down, refusing, timing out) rather
 * than a bug, so the page can say so plainly.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && unreachableCodes.has(code)) return true;
  const message = String((err as Error | null)?.message ?? err);
  return /Can't reach database|ECONNREFUSED|ETIMEDOUT|ENOTFOUND|Connection terminated|DatabaseNotReachable|timeout exceeded/i.test(
    message,
  );
}
