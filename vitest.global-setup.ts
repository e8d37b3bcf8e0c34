import { createTestDatabase, deleteQueuePrefix, uniqueName } from "./src/test-support/test-database.ts";

// Each `vitest run` gets its own database and queue prefix, so runs never see each other's jobs.
export default async function setup() {
  const db = await createTestDatabase("vitest");
  const prefix = uniqueName("q");
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  process.env.DATABASE_URL = db.url;
  process.env.QUEUE_PREFIX = prefix;
  process.env.REDIS_URL = redisUrl;
  (process.env as Record<string, string>).NODE_ENV = "test";
  return async () => {
    await db.drop();
    await deleteQueuePrefix(redisUrl, prefix);
  };
}
