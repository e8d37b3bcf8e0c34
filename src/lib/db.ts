import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import { getEnv } from "./env.ts";

export type Db = InstanceType<typeof PrismaClient>;

export function createDb(databaseUrl: string, poolSize = getEnv().DATABASE_POOL_SIZE): Db {
  // A bounded connect timeout: an unreachable database must fail a request, not hang it.
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: 5000 });
  return new PrismaClient({ adapter });
}

// One client per process; kept on globalThis so Next.js dev reloads do not open a pool each time.
const holder = globalThis as unknown as { agentEngineDb?: Db };

export function getDb(): Db {
  holder.agentEngineDb ??= createDb(getEnv().DATABASE_URL);
  return holder.agentEngineDb;
}

export async function closeDb(): Promise<void> {
  const db = holder.agentEngineDb;
  holder.agentEngineDb = undefined;
  await db?.$disconnect();
}
