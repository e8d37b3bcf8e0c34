"use client";

import { formatLocal, formatRelative, formatUtc } from "./format";
import { useHydrated } from "./use-now";

/** "3 min. ago", with the exact time in the tooltip (local time once hydrated). */
export function RelativeTime({ date, now }: { date: Date; now: number }) {
  const hydrated = useHydrated();
  const exact = hydrated ? formatLocal(date) : formatUtc(date);
  return (
    <time dateTime={date.toISOString()} title={exact}>
      {formatRelative(date, now)}
    </time>
  );
}

/** The exact time as text, with the relative time in the tooltip. */
export function ExactTime({ date, now }: { date: Date; now: number }) {
  const hydrated = useHydrated();
  return (
    <time dateTime={date.toISOString()} title={formatRelative(date, now)}>
      {hydrated ? formatLocal(date) : formatUtc(date)}
    </time>
  );
}
