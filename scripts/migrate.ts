/**
 * Applies prisma/migrations/* to DATABASE_URL and records each in `_prisma_migrations` exactly as
 * `prisma migrate deploy` does (checksum = SHA-256 hex of migration.sql), because Prisma's schema
 * engine cannot be downloaded on offline machines. Creates the database if it does not exist.
 *
 * Usage: npm run db:migrate            (DATABASE_URL from the environment)
 */
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../prisma/migrations");

// Prisma migrate holds this advisory lock while it migrates; taking the same one keeps the two
// tools (and two copies of this script) from migrating one database at the same time.
const PRISMA_ADVISORY_LOCK = 72707369;

export type MigrateResult = { applied: string[]; alreadyApplied: string[] };

export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } catch (err) {
    // Another process may have created it between our check and CREATE.
    if ((err as { code?: string }).code !== "42P04") throw err;
  } finally {
    await admin.end();
  }
}

export async function migrate(databaseUrl: string, log: (line: string) => void = () => {}): Promise<MigrateResult> {
  await ensureDatabase(databaseUrl);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const result: MigrateResult = { applied: [], alreadyApplied: [] };
  try {
    await client.query("SELECT pg_advisory_lock($1)", [PRISMA_ADVISORY_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum"            VARCHAR(64) NOT NULL,
      "finished_at"         TIMESTAMPTZ,
      "migration_name"      VARCHAR(255) NOT NULL,
      "logs"                TEXT,
      "rolled_back_at"      TIMESTAMPTZ,
      "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
    );
    const recorded = new Map(rows.map((r) => [r.migration_name, r]));

    const names = (await readdir(migrationsDir, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    for (const name of names) {
      const sql = await readFile(path.join(migrationsDir, name, "migration.sql"), "utf8");
      const checksum = createHash("sha256").update(sql).digest("hex");
      const previous = recorded.get(name);
      if (previous?.finished_at) {
        if (previous.checksum !== checksum) {
          log(`warning: ${name} was modified after it was applied (checksum differs)`);
        }
        result.alreadyApplied.push(name);
        continue;
      }
      if (previous) {
        throw new Error(
          `Migration ${name} failed earlier and was not rolled back. Fix the database, then mark it rolled back.`,
        );
      }
      const id = randomUUID();
      await client.query("BEGIN");
      try {
        await client.query(sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
           VALUES ($1, $2, now(), $3, 1)`,
          [id, checksum, name],
        );
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new Error(`Migration ${name} failed: ${(err as Error).message}`, { cause: err });
      }
      result.applied.push(name);
      log(`applied ${name}`);
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [PRISMA_ADVISORY_LOCK]).catch(() => {});
    await client.end();
  }
  return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const url = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/agent_engine";
  migrate(url, (line) => console.log(line))
    .then((r) => {
      const where = new URL(url);
      console.log(
        `database ${where.pathname.slice(1)} on ${where.host}: ${r.applied.length} applied, ${r.alreadyApplied.length} already applied`,
      );
    })
    .catch((err: Error) => {
      console.error(`db:migrate failed: ${err.message}`);
      process.exit(1);
    });
}
