// `npm run up`: runs the whole product on this machine: checks PostgreSQL and Redis, installs
// dependencies if needed, migrates, builds, then runs the web app (http://localhost:$PORT, default
// 3000) and the worker side by side until Ctrl-C. `npm run up -- --dev` uses `next dev` instead.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dev = process.argv.includes("--dev");
const port = process.env.PORT ?? "3000";
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };

function step(label, command, args) {
  console.log(`[up] ${label}`);
  const r = spawnSync(command, args, { cwd: root, stdio: "inherit", env });
  if (r.status !== 0) {
    console.error(`[up] ${label} failed`);
    process.exit(r.status ?? 1);
  }
}

step("checking services and dependencies", process.execPath, ["scripts/bootstrap.mjs"]);
step("migrating the database", "npx", ["tsx", "scripts/migrate.ts"]);
if (!dev) step("building the web app", "npx", ["next", "build"]);

// Started directly with node (not through npx, which does not pass signals on), each in its own
// process group so that stopping it also stops whatever it started (next-server).
const children = [
  ["web", [path.join(root, "node_modules/next/dist/bin/next"), dev ? "dev" : "start", "-p", port]],
  ["worker", ["--import", "tsx", "worker/index.ts"]],
].map(([name, args]) => {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const prefix = (stream, out) =>
    stream.on("data", (chunk) => {
      for (const line of chunk.toString().split("\n")) if (line) out.write(`${name.padEnd(6)} | ${line}\n`);
    });
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  return { name, child };
});
console.log(`[up] dashboard: http://localhost:${port}/dashboard/agents/jobs  (Ctrl-C stops web and worker)`);

// The worker may need its shutdown grace (25 s by default) to finish running jobs; the web server
// keeps open live streams alive, so it gets a few seconds and is then stopped hard.
const hardStopAfterMs = { web: 5_000, worker: 45_000 };

function signalGroup(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

let stopping = false;
function stopAll(code) {
  if (stopping) return;
  stopping = true;
  for (const { name, child } of children) {
    signalGroup(child, "SIGTERM");
    setTimeout(() => signalGroup(child, "SIGKILL"), hardStopAfterMs[name]).unref();
  }
  Promise.all(
    children.map(({ child }) =>
      child.exitCode !== null || child.signalCode !== null ? null : new Promise((r) => child.once("exit", r)),
    ),
  ).then(() => process.exit(code));
}
for (const { name, child } of children) {
  child.once("exit", (code) => {
    if (!stopping) console.error(`[up] ${name} exited with code ${code}; stopping`);
    stopAll(code ?? 1);
  });
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));
process.on("SIGHUP", () => stopAll(0));
// npm does not always pass a signal on to this script: if npm goes away, stop too.
const parent = process.ppid;
setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch {
    stopAll(0);
  }
}, 1000).unref();
