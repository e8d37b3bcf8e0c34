// Makes a fresh machine ready to run or test Agent Engine, using only Node built-ins (it runs
// before node_modules exists): PostgreSQL and Redis reachable (started if they are local and down),
// dependencies installed, and with --browser a Chromium for the e2e tests.
// Usage: node scripts/bootstrap.mjs [--browser]
import { execSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const say = (line) => console.log(`[bootstrap] ${line}`);

function reachable(url, fallbackPort) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname || "127.0.0.1", port: Number(port) || fallbackPort });
    socket.setTimeout(1500);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
}

function tryRun(command) {
  try {
    execSync(command, { stdio: "inherit" });
    return true;
  } catch {
    return false;
  }
}

async function waitFor(url, port, seconds) {
  for (let i = 0; i < seconds * 4; i++) {
    if (await reachable(url, port)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function ensurePostgres() {
  const url = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/agent_engine";
  if (await reachable(url, 5432)) return;
  const versions = existsSync("/etc/postgresql") ? readdirSync("/etc/postgresql") : [];
  if (versions.length) {
    say(`PostgreSQL is down; starting cluster ${versions[0]}/main`);
    tryRun(`pg_ctlcluster --skip-systemctl-redirect ${versions[0]} main start`);
  }
  if (!(await waitFor(url, 5432, 15))) {
    throw new Error(`PostgreSQL is not reachable at ${new URL(url).host}. Start it (or: docker compose up -d) and set DATABASE_URL.`);
  }
}

async function ensureRedis() {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  if (await reachable(url, 6379)) return;
  if (spawnSync("which", ["redis-server"]).status === 0) {
    say("Redis is down; starting redis-server on 127.0.0.1:6379");
    tryRun(`redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /tmp`);
  }
  if (!(await waitFor(url, 6379, 10))) {
    throw new Error(`Redis is not reachable at ${new URL(url).host}. Start it (or: docker compose up -d) and set REDIS_URL.`);
  }
}

function ensureDependencies() {
  if (existsSync(path.join(root, "node_modules/.package-lock.json")) && existsSync(path.join(root, "src/generated/prisma/client.ts"))) return;
  say("installing dependencies (npm ci)");
  execSync("npm ci", { cwd: root, stdio: "inherit" });
}

function ensureChromium() {
  const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (existsSync(chromium)) return;
  if (process.getuid?.() === 0 && spawnSync("which", ["apt-get"]).status === 0) {
    say("installing Debian's Chromium for the browser tests");
    execSync("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium", { stdio: "inherit" });
    return;
  }
  throw new Error(`No Chromium at ${chromium}. Install it (apt-get install chromium) or set CHROMIUM_PATH.`);
}

try {
  await ensurePostgres();
  await ensureRedis();
  ensureDependencies();
  if (process.argv.includes("--browser")) ensureChromium();
} catch (err) {
  console.error(`[bootstrap] ${err.message}`);
  process.exit(1);
}
