import type { Page } from "@playwright/test";
import { examples, expect, saveScreenshot, test } from "./support/fixtures.ts";
import { closeEngine, createJob, getDb, jobStatus } from "./support/engine.ts";
import { setJobProgress, updateJobStatus } from "../src/lib/agents/state-manager.ts";
import { withWorkerPaused } from "./support/stack.ts";

test.afterAll(async () => {
  await closeEngine();
});

async function waitLive(page: Page) {
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
}

/**
 * Screenshots of the dashboard and a detail page, desktop and 375 px, into e2e-artifacts/ and
 * the report. The seeded jobs cover every status; the RUNNING one is moved there by hand while
 * the worker is paused, exactly as a worker would on starting it, so the picture holds still.
 */
test("screenshots: dashboard and job detail, desktop and mobile", async ({ page }, testInfo) => {
  const research = await createJob("RESEARCH", examples.research);
  const finished = [
    research,
    await createJob("OUTREACH", examples.outreach),
    await createJob("OUTREACH", examples.outreachMissingCompany),
    await createJob("ENRICHMENT", examples.enrichment),
  ];
  for (const job of finished) {
    await expect.poll(() => jobStatus(job.id), { timeout: 30_000 }).toMatch(/COMPLETED|FAILED/);
  }

  await withWorkerPaused(async () => {
    await createJob("ENRICHMENT", examples.enrichment);
    const running = await createJob("RESEARCH", examples.research);
    await updateJobStatus(running.id, "RUNNING", { attempt: 1 }, getDb());
    await setJobProgress(running.id, 45, getDb());

    await page.setViewportSize({ width: 1360, height: 900 });
    await page.goto("/dashboard/agents/jobs");
    await waitLive(page);
    await expect(page.locator(`tr[data-job-id="${running.id}"] [data-status="RUNNING"]`)).toContainText("45%");
    await saveScreenshot(page, testInfo, "dashboard-desktop");

    await page.setViewportSize({ width: 375, height: 812 });
    await page.reload();
    await waitLive(page);
    await saveScreenshot(page, testInfo, "dashboard-mobile-375");
    await saveScreenshot(page, testInfo, "dashboard-mobile-375-first-screen", { fullPage: false });

    await page.setViewportSize({ width: 1360, height: 900 });
    await page.goto(`/dashboard/agents/jobs/${running.id}`);
    await waitLive(page);
    await saveScreenshot(page, testInfo, "job-detail-running-desktop");
  });

  await page.setViewportSize({ width: 1360, height: 900 });
  await page.goto(`/dashboard/agents/jobs/${research.id}`);
  await waitLive(page);
  await expect(page.getByTestId("job-logs")).toContainText("Completed in");
  await saveScreenshot(page, testInfo, "job-detail-desktop");

  await page.setViewportSize({ width: 375, height: 812 });
  await page.reload();
  await waitLive(page);
  await saveScreenshot(page, testInfo, "job-detail-mobile-375");
});
