import { z } from "zod";

/**
 * The one place that reads process.env. Everything else receives config values as arguments
 * or calls getEnv(), so tests can point the engine at their own database and queue prefix.
 */
const envSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  DATABASE_URL: z.string().url().default("postgresql://postgres@127.0.0.1:5432/agent_engine"),
  /** Connections in this process's PostgreSQL pool. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(20),
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  /** BullMQ key prefix; tests use a unique one per run. */
  QUEUE_PREFIX: z.string().min(1).default("agent-engine"),
  /** Jobs one worker process runs at once. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(10),
  /** Largest accepted job input, in bytes of its JSON encoding. */
  MAX_INPUT_BYTES: z.coerce.number().int().min(1024).default(256 * 1024),
  /** How long createJob waits for Redis before reporting the enqueue as failed. */
  ENQUEUE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  /** A job whose worker stops renewing its lock for this long counts as stalled (worker died). */
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(30_000),
  /** How often workers look for stalled jobs. */
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Times a job may be lost to a dying worker and still be run again; once more and it fails. */
  WORKER_MAX_STALLED_COUNT: z.coerce.number().int().min(0).default(1),
  /** On SIGTERM, how long running jobs get to finish before they are interrupted and requeued. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(25_000),
  /** Rows PENDING/RUNNING without change for this long are checked against the queue by the reconciler. */
  RECONCILE_GRACE_MS: z.coerce.number().int().min(0).default(15_000),
  /** How often the worker's reconciler looks for PENDING/RUNNING rows whose queue job is gone. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(0).default(30_000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

export type Env = z.infer<typeof envSchema>;

let cached: Env | undefined;

export function getEnv(): Env {
  if (!cached) {
    const parsed = envSchema.safeParse(process.env);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
      throw new Error(`Invalid environment:\n  ${problems.join("\n  ")}`);
    }
    cached = parsed.data;
  }
  return cached;
}
