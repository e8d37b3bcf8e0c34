"use client";

import { useEffect, useState, useSyncExternalStore } from "react";

/**
 * A clock for relative times and running durations. It starts at `initialNow` (the server's
 * render time) so the first browser render matches the server HTML, then ticks every `intervalMs`.
 */
export function useNow(initialNow: number, intervalMs: number): number {
  const [now, setNow] = useState(initialNow);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

const subscribeNever = () => () => {};

/** False during server rendering and hydration, true afterwards. */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    subscribeNever,
    () => true,
    () => false,
  );
}
