// Runs `prisma generate` offline. The Prisma CLI insists on downloading its native schema engine
// even though generate never uses it; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file
// stops the download. Where the variable is already set (a connected machine), it is kept.
import { spawnSync } from "node:child_process";

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: "1" };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
const result = spawnSync("npx", ["prisma", "generate"], { stdio: "inherit", env });
process.exit(result.status ?? 1);
