import { defineConfig } from "prisma/config";

// Prisma 7 reads connection URLs here (CLI only); the app connects through @prisma/adapter-pg.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: {
    url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/agent_engine",
  },
});
