import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import { getEnv } from "./env.ts";

export type Db = InstanceType<typeof PrismaClient>;

export function createDb(databaseUrl: string): Db {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
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
