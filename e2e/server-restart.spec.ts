import {
  badgeOf,
  createJobFromForm,
  examples,
  expect,
  expectSameDocument,
  jobRow,
  openDashboard,
  test,
} from "./support/fixtures.ts";
import { closeEngine, createJob, jobStatus } from "./support/engine.ts";
import { startWebServerAgain, stopWebServer, withWorkerPaused } from "./support/stack.ts";

test.afterAll(async () => {
  await closeEngine();
});

test.describe("web server restart", () => {
  test("an open dashboard catches up with jobs that changed while the server was down", async ({ page }) => {
    const view = await openDashboard(page);
    let shown = "";

    try {
      await withWorkerPaused(async (resume) => {
        // On the page as PENDING; it will complete while no web server is up.
        shown = await createJobFromForm(page, "ENRICHMENT", examples.enrichment);
        await expect(badgeOf(jobRow(page, shown))).toHaveAttribute("data-status", "PENDING");
        await stopWebServer();
        resume();
      });
      await expect(page.getByTestId("connection")).not.toHaveAttribute("data-state", "live");
      await expect.poll(() => jobStatus(shown), { timeout: 30_000 }).toBe("COMPLETED");

      // Created straight through the database and queue: the worker runs it while no web server is up.
      const job = await createJob("ENRICHMENT", examples.enrichment);
      await expect.poll(() => jobStatus(job.id), { timeout: 30_000 }).toBe("COMPLETED");
      await expect(jobRow(page, job.id)).toHaveCount(0);

      await startWebServerAgain();
      await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live", { timeout: 45_000 });
      await expect(badgeOf(jobRow(page, job.id))).toHaveAttribute("data-status", "COMPLETED");
      await expect(badgeOf(jobRow(page, shown))).toHaveAttribute("data-status", "COMPLETED");
    } finally {
      // Leave a server running for the specs after this one, whatever happened above.
      await startWebServerAgain().catch(() => {});
    }
    await expectSameDocument(page, view);
  });
});
