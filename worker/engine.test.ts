import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestWorker, waitForFinished } from "../src/test-support/engine.ts";
import { jobTypeNames, jobTypes } from "../src/lib/agents/job-types.ts";
import { createJob } from "../src/lib/agents/state-manager.ts";
import { getAgentQueue } from "../src/lib/queue/agent-queue.ts";
import { handlers } from "./handlers/index.ts";

let worker: ReturnType<typeof startTestWorker>;
beforeAll(async () => {
  worker = startTestWorker(handlers);
  await worker.worker.waitUntilReady();
});
afterAll(async () => {
  await worker.close(1000);
  await getAgentQueue().obliterate({ force: true });
});

describe("the engine with the real handlers", () => {
  it("brings 200 concurrently created jobs of every type to COMPLETED with output", async () => {
    const rows = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const type = jobTypeNames[i % jobTypeNames.length]!;
        return createJob(type, jobTypes[type].example);
      }),
    );
    const done = await waitForFinished(rows.map((r) => r.id), 60_000);
    expect(done.filter((r) => r.status === "COMPLETED")).toHaveLength(200);
    for (const row of done) {
      expect(jobTypes[row.type].output.safeParse(row.output).success).toBe(true);
      expect(row.attempts).toBe(1);
    }
  });

  it("ends an OUTREACH job with a missing template variable FAILED with that reason, at once", async () => {
    const row = await createJob("OUTREACH", {
      template: "Hi {{firstName}} from {{company}}",
      contact: { firstName: "ada", email: "ada@example.com" },
    });
    const [done] = await waitForFinished([row.id]);
    expect(done!.status).toBe("FAILED");
    expect(done!.error).toMatch(/Missing template variables: company/);
    expect(done!.attempts).toBe(1);
  });
});
