import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const forbiddenPackages = /^(next|react|react-dom)(\/|$)/;
// Prisma's generated client is third-party code that happens to live in src/; its doc comments
// contain import examples, so it is not walked.
const generatedDir = path.join(root, "src/generated") + path.sep;
const forbiddenDirs = ["src/app", "src/components", "src/server", "src/trpc"].map((d) => path.join(root, d) + path.sep);

/** Every project file the worker reaches through static or dynamic imports, with its bare imports. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const stack = [entry];
  while (stack.length) {
    const file = stack.pop()!;
    if (graph.has(file) || file.startsWith(generatedDir)) continue;
    const source = readFileSync(file, "utf8");
    const specifiers = [...source.matchAll(/(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm)].map(
      (m) => (m[1] ?? m[2] ?? m[3])!,
    );
    graph.set(file, specifiers.filter((s) => !s.startsWith(".") && !s.startsWith("@/")));
    for (const spec of specifiers) {
      if (spec.startsWith(".")) stack.push(path.resolve(path.dirname(file), spec));
      else if (spec.startsWith("@/")) stack.push(path.join(root, "src", spec.slice(2)));
    }
  }
  return graph;
}

describe("worker import boundary", () => {
  const graph = importGraph(path.join(root, "worker/index.ts"));

  it("reaches the handlers and the engine (the walk is not empty)", () => {
    const files = [...graph.keys()].map((f) => path.relative(root, f));
    expect(files).toContain("worker/handlers/index.ts");
    expect(files).toContain("src/lib/queue/agent-worker.ts");
  });

  it("never imports Next.js, React, or the web app", () => {
    const offenders: string[] = [];
    for (const [file, packages] of graph) {
      if (forbiddenDirs.some((d) => file.startsWith(d))) offenders.push(path.relative(root, file));
      for (const p of packages) if (forbiddenPackages.test(p)) offenders.push(`${path.relative(root, file)} -> ${p}`);
    }
    expect(offenders).toEqual([]);
  });
});
