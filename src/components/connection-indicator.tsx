import type { LiveState } from "./use-job-changes";

const labels: Record<LiveState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline, retrying…",
};

const hints: Record<LiveState, string> = {
  connecting: "Opening the live update stream",
  live: "Changes appear as they happen",
  reconnecting: "Connection lost; changes made meanwhile will be caught up when it returns",
  offline: "No connection to the server; retrying",
};

export function ConnectionIndicator({ state }: { state: LiveState }) {
  return (
    <span
      className={`live live-${state}`}
      role="status"
      aria-live="polite"
      title={hints[state]}
      data-testid="connection"
      data-state={state}
    >
      <span className="live-dot" aria-hidden="true" />
      {labels[state]}
    </span>
  );
}
