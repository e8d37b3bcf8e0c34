import { QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { jobSummarySelect } from "../agents/state-manager.ts";
import type { Db } from "../db.ts";
import { AGENT_QUEUE_NAME } from "../queue/agent-queue.ts";
import { createWorkerConnection } from "../redis.ts";
import { publishJobChange, type JobEventKind } from "./job-events.ts";

export type ForwarderOptions = {
  db: Db;
  prefix: string;
  /** Publishes to the bus; default a new connection to REDIS_URL. */
  publisher?: Redis;
  log?: (line: string) => void;
};

// "added" is left out: BullMQ emits "waiting" for the same new job, and each event costs a read.
const forwardedEvents: JobEventKind[] = ["waiting", "active", "progress", "completed", "failed", "delayed", "stalled"];

/**
 * Forwards BullMQ QueueEvents for 'agent-tasks' to the Redis pub/sub bus the API listens on.
 * Each event is only a hint: the forwarder reads the row and publishes what the database says.
 * Reads are coalesced per job, so a burst of 200 log events costs a few reads, not 200.
 */
export function startQueueEventsForwarder(opts: ForwarderOptions): { close: (drainMs?: number) => Promise<void> } {
  const log = opts.log ?? ((line: string) => console.log(line));
  const publisher = opts.publisher ?? createWorkerConnection();
  // BullMQ never closes a connection instance it was given; close() below does.
  const eventsConnection = createWorkerConnection();
  const queueEvents = new QueueEvents(AGENT_QUEUE_NAME, { connection: eventsConnection, prefix: opts.prefix });
  queueEvents.on("error", (err) => log(`[forwarder] ${err.message}`));
  // QueueEvents reports errors itself (above), but while it reconnects its client can be left with no
  // listener, and ioredis then prints "Unhandled error event" on every retry of an outage.
  eventsConnection.on("error", () => {});
  publisher.on("error", () => {});

  const inFlight = new Map<string, JobEventKind | null>();
  const forward = async (jobId: string, kind: JobEventKind): Promise<void> => {
    if (inFlight.has(jobId)) {
      inFlight.set(jobId, kind); // read again once the current read is done
      return;
    }
    inFlight.set(jobId, null);
    let next: JobEventKind | null = kind;
    try {
      while (next) {
        inFlight.set(jobId, null);
        const job = await opts.db.agentJob.findUnique({ where: { id: jobId }, select: jobSummarySelect });
        if (job) await publishJobChange(publisher, opts.prefix, { kind: next, job });
        next = inFlight.get(jobId) ?? null;
      }
    } catch (err) {
      log(`[forwarder] could not forward ${kind} for ${jobId}: ${(err as Error).message}`);
    } finally {
      inFlight.delete(jobId);
    }
  };

  for (const kind of forwardedEvents) {
    queueEvents.on(kind as "added", ({ jobId }: { jobId: string }) => void forward(jobId, kind));
  }
  queueEvents.on("log" as "added", ({ jobId }: { jobId: string }) => void forward(jobId, "log"));

  return {
    /**
     * Stops forwarding. Events for the worker's last moves (a job requeued at shutdown) are still
     * on their way when the worker closes, so it first gives them `drainMs` to arrive and be sent.
     */
    close: async (drainMs = 500) => {
      const deadline = Date.now() + drainMs;
      await new Promise((r) => setTimeout(r, Math.min(250, drainMs)));
      while (inFlight.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      await queueEvents.close();
      eventsConnection.disconnect();
      if (!opts.publisher) publisher.disconnect();
    },
  };
}
