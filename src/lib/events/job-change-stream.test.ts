import { describe, expect, it } from "vitest";
import { getDb } from "../db.ts";
import { jobTypes } from "../agents/job-types.ts";
import { createJob, updateJobStatus } from "../agents/state-manager.ts";
import { openJobChangeStream, type JobEventSource } from "./job-change-stream.ts";
import type { JobChangeEvent } from "./job-events.ts";

/** A bus whose connection "drops": events published meanwhile never arrive, then it reconnects. */
function flakyBus() {
  let reconnect: (() => void) | undefined;
  const bus: JobEventSource = {
    subscribe: async (_listener: (e: JobChangeEvent) => void, onReconnect?: () => void) => {
      reconnect = onReconnect;
      return () => {};
    },
  };
  return { bus, reconnect: () => reconnect?.() };
}

describe("job change stream", () => {
  it("reads what it missed from the database after the bus reconnects", async () => {
    const { bus, reconnect } = flakyBus();
    const controller = new AbortController();
    const stream = await openJobChangeStream({ bus, db: getDb(), signal: controller.signal });

    // Changes made while the bus was away: nothing is published for them.
    const row = await createJob("ENRICHMENT", jobTypes.ENRICHMENT.example, { enqueueTimeoutMs: 2000 });
    const running = await updateJobStatus(row.id, "RUNNING", { attempt: 1 });

    const first = stream.next();
    reconnect();
    const got = await first;
    expect(got.done).toBe(false);
    const event = got.value as JobChangeEvent;
    expect(event.job.id).toBe(row.id);
    expect(event.job.status).toBe("RUNNING");
    expect(event.job.seq).toBe(running.job.seq);
    controller.abort();
    expect((await stream.next()).done).toBe(true);
  });
});
