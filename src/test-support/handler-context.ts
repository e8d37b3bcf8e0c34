import type { HandlerContext, LogLevel } from "../lib/agents/handler-context.ts";

/** A HandlerContext that records logs and progress in memory, for handler unit tests. */
export function createTestContext() {
  const logs: { level: LogLevel; message: string; data?: unknown }[] = [];
  const progress: number[] = [];
  const controller = new AbortController();
  const ctx: HandlerContext = {
    jobId: "job-test",
    attempt: 1,
    log: async (level, message, data) => void logs.push({ level, message, data }),
    progress: async (percent) => void progress.push(percent),
    signal: controller.signal,
  };
  return { ctx, logs, progress, controller };
}
