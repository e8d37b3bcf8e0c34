import { Redis, type RedisOptions } from "ioredis";
import { getEnv } from "./env.ts";

/**
 * Connection for producers (createJob, the API): commands fail fast while Redis is down
 * instead of queueing in memory forever, so callers get an error in bounded time.
 */
export function createProducerConnection(url = getEnv().REDIS_URL, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  });
}

/**
 * Connection for workers, QueueEvents and subscribers: blocking commands must wait through
 * outages, so BullMQ requires maxRetriesPerRequest: null; it reconnects forever.
 */
export function createWorkerConnection(url = getEnv().REDIS_URL, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  });
}
