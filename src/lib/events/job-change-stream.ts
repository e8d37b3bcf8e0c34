import { getJobChangeCursor, listJobChangesSince, MAX_CHANGES_PER_QUERY } from "../agents/job-queries.ts";
import { getDb, type Db } from "../db.ts";
import { AgentEngineError } from "../errors.ts";
import { getJobEventBus, type JobChangeEvent } from "./job-events.ts";

/** What the stream needs from the bus (getJobEventBus() satisfies it; tests may pass their own). */
export type JobEventSource = {
  /** Resolves once events after this call will reach the listener; the result unsubscribes. */
  subscribe(listener: (event: JobChangeEvent) => void, onReconnect?: () => void): Promise<() => void>;
};

export type JobChangeStreamOptions = {
  /** Default: getJobEventBus(). */
  bus?: JobEventSource;
  /** Default: getDb(). */
  db?: Db;
  /**
   * Deliver every row with a higher `seq` from the database first (a reconnect's lastEventId).
   * Null or absent: live events only.
   */
  afterSeq?: bigint | null;
  /** Only this job's changes. */
  jobId?: string;
  /** Ends the stream (the client went away). */
  signal?: AbortSignal;
  /** Rows per catch-up query. Default: 1000. */
  catchUpPageSize?: number;
  /** How long to wait for Redis to confirm the subscription before failing. Default: 5000 ms. */
  subscribeTimeoutMs?: number;
  /**
   * How many job ids the stream remembers the last delivered seq of, to drop duplicates and
   * stale snapshots. A stale snapshot only trails a newer one by a few events, so a bounded
   * memory suffices and a dashboard left open for days does not grow. Default: 50,000.
   */
  maxTrackedJobs?: number;
};

/**
 * The change feed of AgentJob rows for one client: a catch-up from the database (when `afterSeq`
 * is given), then live snapshots from the Redis bus. Resolves once Redis has confirmed the
 * subscription, so every change published after that is delivered; throws QUEUE_UNAVAILABLE
 * when Redis does not confirm in time.
 *
 * - The bus subscription is confirmed before the catch-up query runs, so a change made between
 *   the two is seen by one or the other, never by neither.
 * - Per job, a snapshot is delivered only if its seq is higher than the last one delivered:
 *   no change twice (the catch-up and the bus, or two forwarders, report the same row) and
 *   never an older state after a newer one.
 * - While the consumer is slow, queued live events are coalesced per job (latest wins), so the
 *   queue is bounded by the number of distinct jobs, not by the event rate.
 * - The bus listener is removed when `signal` fires or the consumer calls `return()` (a
 *   `for await` loop that ends), at once, even while the stream waits for events. A caller that
 *   neither iterates to the end nor calls return() must pass a signal.
 */
export async function openJobChangeStream(opts: JobChangeStreamOptions = {}): Promise<AsyncIterableIterator<JobChangeEvent, void, unknown>> {
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const { jobId } = opts;
  const db = opts.db ?? getDb();
  const bus = opts.bus ?? getJobEventBus();
  const pageSize = Math.min(MAX_CHANGES_PER_QUERY, Math.max(1, opts.catchUpPageSize ?? MAX_CHANGES_PER_QUERY));
  const maxTracked = Math.max(1, opts.maxTrackedJobs ?? 50_000);

  const delivered = new Map<string, bigint>();
  const isStale = (job: { id: string; seq: bigint }) => {
    const seen = delivered.get(job.id);
    return seen !== undefined && job.seq <= seen;
  };
  const remember = (job: { id: string; seq: bigint }) => {
    delivered.delete(job.id); // re-insert: Map order is then least recently delivered first
    delivered.set(job.id, job.seq);
    if (delivered.size > maxTracked) delivered.delete(delivered.keys().next().value as string);
  };

  const queued = new Map<string, JobChangeEvent>();
  let wake: (() => void) | undefined;
  const onEvent = (event: JobChangeEvent) => {
    const { job } = event;
    if (jobId && job.id !== jobId) return;
    if (isStale(job)) return;
    const waiting = queued.get(job.id);
    if (waiting && waiting.job.seq >= job.seq) return;
    queued.delete(job.id);
    queued.set(job.id, event);
    wake?.();
  };

  // After a bus reconnect, whatever was published while it was away is read from the database.
  let resyncNeeded = false;
  const onReconnect = () => {
    resyncNeeded = true;
    wake?.();
  };
  const unsubscribe = await subscribeUntil(bus, onEvent, onReconnect, signal, opts.subscribeTimeoutMs ?? 5000);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    stop.abort();
    wake?.();
    unsubscribe?.();
  };
  // The generator may sit at a `yield` nobody resumes once the client is gone: the signal
  // releases the listener itself instead of waiting for the generator's finally.
  signal.addEventListener("abort", release, { once: true });
  if (signal.aborted) release();

  // Highest seq known to be delivered or caught up: where a resync after a reconnect starts.
  // Without afterSeq, the feed's position at subscription time (nothing before it is owed).
  let caughtUpTo: bigint = opts.afterSeq ?? BigInt(await getJobChangeCursor(db).catch(() => "0"));

  async function* catchUp(from: bigint): AsyncGenerator<JobChangeEvent, void, unknown> {
    let cursor = from;
    for (;;) {
      if (signal.aborted) return;
      const rows = await listJobChangesSince(cursor, { jobId, limit: pageSize }, db);
      for (const job of rows) {
        if (signal.aborted) return;
        cursor = job.seq;
        const newer = queued.get(job.id);
        // The bus already holds a later state of this job: deliver that one instead, once.
        if (isStale(job) || (newer && newer.job.seq > job.seq)) continue;
        remember(job);
        yield { kind: "changed", job };
      }
      if (rows.length < pageSize) break;
    }
  }

  async function* run(): AsyncGenerator<JobChangeEvent, void, unknown> {
    try {
      if (opts.afterSeq !== null && opts.afterSeq !== undefined) {
        for await (const event of catchUp(opts.afterSeq)) {
          if (event.job.seq > caughtUpTo) caughtUpTo = event.job.seq;
          yield event;
        }
      }

      while (!signal.aborted) {
        if (resyncNeeded) {
          resyncNeeded = false;
          for await (const event of catchUp(caughtUpTo)) {
            if (event.job.seq > caughtUpTo) caughtUpTo = event.job.seq;
            yield event;
          }
          continue; // the signal may have fired meanwhile
        }
        const next = queued.values().next();
        if (!next.done) {
          const event = next.value;
          queued.delete(event.job.id);
          if (isStale(event.job)) continue;
          remember(event.job);
          if (event.job.seq > caughtUpTo) caughtUpTo = event.job.seq;
          yield event;
          continue;
        }
        await new Promise<void>((resolve) => {
          const done = () => {
            signal.removeEventListener("abort", done);
            wake = undefined;
            resolve();
          };
          wake = done;
          signal.addEventListener("abort", done, { once: true });
        });
      }
    } finally {
      release();
    }
  }

  const inner = run();
  const iterator: AsyncIterableIterator<JobChangeEvent, void, unknown> = {
    next: () => inner.next(),
    // An async generator queues return() behind a pending next(); releasing first wakes the
    // wait, so this settles now instead of at the next event.
    return: async () => {
      release();
      return inner.return(undefined);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

/**
 * Subscribes, but gives up when the signal fires (returns null) or Redis does not confirm in
 * time (throws). A listener given up on is removed as soon as the bus settles, so a waiting
 * client never leaks one.
 */
async function subscribeUntil(
  bus: JobEventSource,
  listener: (event: JobChangeEvent) => void,
  onReconnect: () => void,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<(() => void) | null> {
  if (signal.aborted) return null;
  const subscribing = bus.subscribe(listener, onReconnect);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const outcome = await new Promise<{ unsubscribe: () => void } | "aborted" | "timeout">((resolve, reject) => {
    subscribing.then((unsubscribe) => resolve({ unsubscribe }), reject);
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
    onAbort = () => resolve("aborted");
    signal.addEventListener("abort", onAbort, { once: true });
  })
    .catch((err: unknown) => {
      throw new AgentEngineError("QUEUE_UNAVAILABLE", `Live updates are unavailable: ${(err as Error).message}`, { cause: err });
    })
    .finally(() => {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener("abort", onAbort);
    });
  if (typeof outcome === "object") return outcome.unsubscribe;
  subscribing.then(
    (unsubscribe) => unsubscribe(),
    () => {},
  );
  if (outcome === "timeout") {
    throw new AgentEngineError("QUEUE_UNAVAILABLE", `Live updates are unavailable: Redis did not confirm the subscription within ${timeoutMs} ms`);
  }
  return null;
}
