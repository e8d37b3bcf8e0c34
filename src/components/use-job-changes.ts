"use client";

import { useEffect, useMemo, useRef, useState } from "react";
import type { JobSummary } from "@/lib/agents/state-manager";
import { api } from "@/trpc/react";

export type JobChange = { kind: string; job: JobSummary };

/** What the connection indicator shows. */
export type LiveState = "connecting" | "live" | "reconnecting" | "offline";

export type UseJobChangesOptions = {
  /** The change-feed position the page's data was read at (max seq as a string); null = from now. */
  since: string | null;
  /** Only changes of this job (detail page). */
  jobId?: string;
  onChange: (change: JobChange) => void;
};

const maxRestartDelayMs = 10_000;

/**
 * Subscribes to job.onChange from `since` and keeps the subscription alive. The SSE link reconnects
 * by itself after network drops (resending the last event id); this hook also restarts it after
 * an error the link gives up on, or when the server ends the stream, resuming from the newest
 * event seen so nothing in between is lost.
 */
export function useJobChanges({ since, jobId, onChange }: UseJobChangesOptions): LiveState {
  const [resumeFrom, setResumeFrom] = useState(since);
  const latestId = useRef(since);
  const onChangeRef = useRef(onChange);
  const [everConnected, setEverConnected] = useState(false);
  const restarts = useRef(0);

  useEffect(() => {
    onChangeRef.current = onChange;
  });

  const input = useMemo(() => ({ lastEventId: resumeFrom, ...(jobId ? { jobId } : {}) }), [resumeFrom, jobId]);

  const subscription = api.job.onChange.useSubscription(input, {
    onStarted: () => {
      setEverConnected(true);
      restarts.current = 0;
    },
    onData: (event) => {
      latestId.current = event.id;
      onChangeRef.current(event.data);
    },
  });

  const { status, reset } = subscription;
  useEffect(() => {
    if (status !== "error" && status !== "idle") return;
    const delay = Math.min(maxRestartDelayMs, 1000 * 2 ** restarts.current);
    const timer = setTimeout(() => {
      restarts.current += 1;
      if (latestId.current !== resumeFrom) setResumeFrom(latestId.current);
      else reset();
    }, delay);
    return () => clearTimeout(timer);
  }, [status, reset, resumeFrom]);

  switch (status) {
    case "pending":
      return "live";
    case "connecting":
      return everConnected ? "reconnecting" : "connecting";
    default:
      return everConnected ? "reconnecting" : "offline";
  }
}
