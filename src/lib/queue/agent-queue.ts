import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { getEnv } from "../env.ts";
import { createProducerConnection } from "../redis.ts";

export const AGENT_QUEUE_NAME = "agent-tasks";

/**
 * Completed and failed jobs are kept in Redis only briefly: the AgentJob row is the record,
 * so Redis memory does not grow with history.
 */
export const defaultJobOptions: JobsOptions = {
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
};

/** A connection passed in stays the caller's to close; one made here is closed by `queue.close()`. */
export function createAgentQueue(opts: { connection?: Redis; prefix?: string } = {}): Queue {
  const connection = opts.connection ?? createProducerConnection();
  const queue = new Queue(AGENT_QUEUE_NAME, {
    connection,
    prefix: opts.prefix ?? getEnv().QUEUE_PREFIX,
    defaultJobOptions,
  });
  // Without a listener an 'error' event (Redis down) would crash the process.
  queue.on("error", (err) => {
    if (shouldReport(err)) console.error(`[agent-queue] ${err.message}`);
  });
  if (!opts.connection) {
    // BullMQ never closes a connection instance it was given (it treats it as shared), so without
    // this the socket would stay open, reconnecting forever, after close().
    const closeQueue = queue.close.bind(queue);
    queue.close = () => closeQueue().finally(() => connection.disconnect());
  }
  return queue;
}

let lastReport = 0;
function shouldReport(_err: Error): boolean {
  // Reconnect errors repeat every retry; one line every 10 s is enough to see the outage.
  const now = Date.now();
  if (now - lastReport < 10_000) return false;
  lastReport = now;
  return true;
}

const holder = globalThis as unknown as { agentEngineQueue?: Queue };

/** The process-wide queue, created on first use so that importing this module opens nothing. */
export function getAgentQueue(): Queue {
  holder.agentEngineQueue ??= createAgentQueue();
  return holder.agentEngineQueue;
}

/**
 * `agentQueue.add(...)` etc. on the process-wide Queue('agent-tasks'). A lazy stand-in rather than
 * a Queue built at import time, because Next.js imports server modules during `next build`,
 * where no Redis connection should be opened.
 */
export const agentQueue: Queue = new Proxy({} as Queue, {
  get(_target, prop) {
    const queue = getAgentQueue();
    const value = Reflect.get(queue, prop, queue) as unknown;
    return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(queue) : value;
  },
});

export async function closeAgentQueue(): Promise<void> {
  const queue = holder.agentEngineQueue;
  holder.agentEngineQueue = undefined;
  await queue?.close();
}
