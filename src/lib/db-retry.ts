import { setTimeout as sleep } from "node:timers/promises";

/**
 * True for errors that mean "PostgreSQL is not reachable right now" (refused, reset, restarting,
 * pool timeout) as opposed to errors in the statement itself.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: unknown } | undefined;
  if (!e) return false;
  if (e.code && /^(P1001|P1002|P1017|P2024|57P0[1-3]|08\w{3}|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)$/.test(e.code)) return true;
  const message = e.message ?? "";
  if (/ECONNREFUSED|ECONNRESET|EPIPE|Connection terminated|terminating connection|the database system is (starting up|shutting down)|timeout exceeded when trying to connect|Can't reach database server|Server has closed the connection/i.test(message)) {
    return true;
  }
  return e.cause !== undefined && e.cause !== err && isDatabaseUnavailable(e.cause);
}

/**
 * Runs a database write, retrying with backoff while PostgreSQL is unreachable, for at most
 * `maxWaitMs`; other errors are thrown at once. Used by the worker so a job's outcome is recorded
 * once the database is back instead of being lost.
 */
export async function withDbRetry<T>(
  write: () => Promise<T>,
  opts: { maxWaitMs?: number; onRetry?: (err: Error, attempt: number) => void } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.maxWaitMs ?? 60_000);
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isDatabaseUnavailable(err) || Date.now() >= deadline) throw err;
      opts.onRetry?.(err as Error, attempt);
      await sleep(Math.min(100 * 2 ** attempt, 2000));
    }
  }
}
