"use client";

import { useEffect, useLayoutEffect, useRef } from "react";
import { prettyJson } from "./format";
import { useHydrated } from "./use-now";

type LogEntry = { at: string; level: string; message: string; attempt?: number; data?: unknown };

function asEntry(raw: unknown): LogEntry {
  const r = (raw ?? {}) as Record<string, unknown>;
  return {
    at: typeof r.at === "string" ? r.at : "",
    level: typeof r.level === "string" ? r.level : "info",
    message: typeof r.message === "string" ? r.message : prettyJson(raw),
    attempt: typeof r.attempt === "number" ? r.attempt : undefined,
    data: r.data,
  };
}

function timeOf(at: string, local: boolean): string {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return at;
  if (!local) return date.toISOString().slice(11, 23);
  const hms = date.toLocaleTimeString(undefined, {
    hour12: false,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  return `${hms}.${String(date.getMilliseconds()).padStart(3, "0")}`;
}

const useIsomorphicLayoutEffect = typeof window === "undefined" ? useEffect : useLayoutEffect;

/** The job's log, oldest first; follows new entries while the reader is at the bottom. */
export function JobLogView({ logs, streaming }: { logs: unknown[]; streaming: boolean }) {
  const local = useHydrated();
  const box = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const entries = logs.map(asEntry);

  useIsomorphicLayoutEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [logs.length]);

  if (!entries.length) {
    return (
      <p className="muted log-empty">
        {streaming ? "Waiting for the first log entry…" : "This job wrote no log entries."}
      </p>
    );
  }
  return (
    <ol
      ref={box}
      className="log"
      role="log"
      aria-label="Job log"
      tabIndex={0}
      data-testid="job-logs"
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
    >
      {entries.map((entry, i) => (
        <li key={i} className={`log-entry log-${entry.level}`}>
          <time className="log-time" dateTime={entry.at}>
            {timeOf(entry.at, local)}
          </time>
          <span className="log-level">{entry.level}</span>
          <span className="log-message">
            {entry.attempt !== undefined ? <span className="log-attempt">#{entry.attempt}</span> : null}
            {entry.message}
            {entry.data !== undefined && entry.data !== null ? (
              <details className="log-data">
                <summary>data</summary>
                <pre>{prettyJson(entry.data)}</pre>
              </details>
            ) : null}
          </span>
        </li>
      ))}
    </ol>
  );
}
