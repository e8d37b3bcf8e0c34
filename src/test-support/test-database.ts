import { randomBytes } from "node:crypto";
import pg from "pg";
import { Redis } from "ioredis";
import { migrate } from "../../scripts/migrate.ts";

/** The server tests create their throwaway databases on (not a database that is used). */
export const testServerUrl = process.env.TEST_DATABASE_SERVER_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export function uniqueName(label: string): string {
  return `ae_${label}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
}

/** A fresh, migrated database for one test run; drop() removes it. */
export async function createTestDatabase(label = "test"): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = uniqueName(label);
  const url = new URL(testServerUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  return {
    url: url.toString(),
    name,
    drop: () => dropTestDatabase(name),
  };
}

/** Drops a test database, disconnecting whoever still uses it. */
export async function dropTestDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: testServerUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name.replaceAll('"', '""')}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Deletes every Redis key under a test run's queue prefix. */
export async function deleteQueuePrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
