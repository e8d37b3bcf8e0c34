import type { Redis } from "ioredis";
import superjson from "superjson";
import type { JobSummary } from "../agents/state-manager.ts";
import { getEnv } from "../env.ts";
import { createWorkerConnection } from "../redis.ts";

/** The BullMQ event (or custom 'log' event) that led to this snapshot being published. */
export type JobEventKind =
  | "added"
  | "waiting"
  | "active"
  | "progress"
  | "log"
  | "completed"
  | "failed"
  | "delayed"
  | "stalled"
  | "changed";

/**
 * What travels over Redis pub/sub: the row as the database holds it after the change
 * (never the queue's view), so a client that acts on an event agrees with a fresh read.
 */
export type JobChangeEvent = { kind: JobEventKind; job: JobSummary };

export function jobEventsChannel(prefix: string): string {
  return `${prefix}:agent-job-events`;
}

export async function publishJobChange(redis: Redis, prefix: string, event: JobChangeEvent): Promise<void> {
  await redis.publish(jobEventsChannel(prefix), superjson.stringify(event));
}

type Listener = (event: JobChangeEvent) => void;
/** Called after the subscriber reconnected: events published while it was away were missed. */
type ReconnectListener = () => void;

/**
 * One Redis subscriber per process, shared by every live view and closed when the last one
 * leaves, so open dashboards cost no Redis connections each and a closed tab leaves nothing behind.
 */
class JobEventBus {
  private listeners = new Set<Listener>();
  private reconnectListeners = new Map<Listener, ReconnectListener>();
  private subscriber: Redis | undefined;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly redisUrl: string,
    private readonly prefix: string,
  ) {}

  /** Resolves once Redis confirmed the subscription, so events after this are not missed. */
  async subscribe(listener: Listener, onReconnect?: ReconnectListener): Promise<() => void> {
    this.listeners.add(listener);
    if (onReconnect) this.reconnectListeners.set(listener, onReconnect);
    if (!this.subscriber) {
      const sub = createWorkerConnection(this.redisUrl, { connectionName: "agent-engine:events" });
      sub.on("error", () => {}); // reconnects by itself; the catch-up query covers the gap
      sub.on("message", (_channel: string, message: string) => {
        let event: JobChangeEvent;
        try {
          event = superjson.parse<JobChangeEvent>(message);
        } catch {
          return;
        }
        for (const l of this.listeners) l(event);
      });
      let connectedBefore = false;
      sub.on("ready", () => {
        // ioredis resubscribes by itself after a reconnect; listeners are told so they can
        // fetch what was published meanwhile from the database.
        if (connectedBefore) for (const notify of this.reconnectListeners.values()) notify();
        connectedBefore = true;
      });
      this.subscriber = sub;
      this.ready = sub.subscribe(jobEventsChannel(this.prefix)).then(() => undefined);
    }
    try {
      await this.ready;
    } catch (err) {
      this.unsubscribe(listener);
      throw err;
    }
    return () => this.unsubscribe(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  private unsubscribe(listener: Listener): void {
    this.listeners.delete(listener);
    this.reconnectListeners.delete(listener);
    if (this.listeners.size === 0 && this.subscriber) {
      const sub = this.subscriber;
      this.subscriber = undefined;
      this.ready = undefined;
      sub.disconnect();
    }
  }
}

const holder = globalThis as unknown as { agentEngineBus?: JobEventBus };

export function getJobEventBus(): JobEventBus {
  const env = getEnv();
  holder.agentEngineBus ??= new JobEventBus(env.REDIS_URL, env.QUEUE_PREFIX);
  return holder.agentEngineBus;
}
