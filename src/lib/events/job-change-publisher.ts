import type { Redis } from "ioredis";
import { getEnv } from "../env.ts";
import { createProducerConnection } from "../redis.ts";
import { publishJobChange, type JobChangeEvent } from "./job-events.ts";

const holder = globalThis as unknown as { agentEngineChangePublisher?: Redis };

function getPublisher(): Redis {
  if (!holder.agentEngineChangePublisher) {
    // Offline queue on so the first publish waits for the connection; maxRetriesPerRequest 1
    // still fails it quickly while Redis is down.
    const redis = createProducerConnection(undefined, { enableOfflineQueue: true, connectionName: "agent-engine:api-publisher" });
    redis.on("error", () => {}); // reconnects by itself; publishing is best effort
    holder.agentEngineChangePublisher = redis;
  }
  return holder.agentEngineChangePublisher;
}

/**
 * Publishes a snapshot the API itself just wrote, for changes no BullMQ event reports (a PENDING
 * job cancelled and removed from the queue). Best effort: the row is already written, and a
 * client that misses the event gets the row from the database when it reconnects. Returns
 * whether the event was published.
 */
export async function publishJobChangeBestEffort(
  event: JobChangeEvent,
  opts: { prefix?: string; timeoutMs?: number } = {},
): Promise<boolean> {
  const prefix = opts.prefix ?? getEnv().QUEUE_PREFIX;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      publishJobChange(getPublisher(), prefix, event),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("publish timed out")), opts.timeoutMs ?? 1000);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export async function closeJobChangePublisher(): Promise<void> {
  const redis = holder.agentEngineChangePublisher;
  holder.agentEngineChangePublisher = undefined;
  if (redis) await redis.quit().catch(() => redis.disconnect());
}
