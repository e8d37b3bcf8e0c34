import { createTestDatabase, deleteQueuePrefix, uniqueName } from "../src/test-support/test-database.ts";
import { expect, saveScreenshot, test } from "./support/fixtures.ts";
import { readStackState, startExtraWebServer } from "./support/stack.ts";

test.describe("empty and error states", () => {
  test("with no jobs yet the dashboard explains what to do", async ({ page }, testInfo) => {
    const { redisUrl } = readStackState();
    const database = await createTestDatabase("e2e_empty");
    const queuePrefix = uniqueName("e2e_empty");
    const server = await startExtraWebServer({ databaseUrl: database.url, redisUrl, queuePrefix });
    try {
      await page.goto(`${server.baseURL}/dashboard/agents/jobs`);
      await expect(page.getByTestId("empty-state")).toContainText("No jobs yet");
      await expect(page.getByTestId("count-PENDING")).toHaveText("0");
      await expect(page.getByTestId("create-job-form")).toBeVisible();
      await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
      await saveScreenshot(page, testInfo, "dashboard-empty-desktop");
    } finally {
      await page.goto("about:blank");
      await server.stop();
      await database.drop();
      await deleteQueuePrefix(redisUrl, queuePrefix);
    }
  });

  test("with the database down the pages show an error banner, not a blank page", async ({ page }, testInfo) => {
    const { redisUrl, queuePrefix } = readStackState();
    // Nothing listens on port 1: every query fails with ECONNREFUSED.
    const server = await startExtraWebServer({
      databaseUrl: "postgresql://postgres@127.0.0.1:1/none",
      redisUrl,
      queuePrefix,
    });
    try {
      await page.goto(`${server.baseURL}/dashboard/agents/jobs`);
      const banner = page.getByTestId("error-banner");
      await expect(banner).toContainText("The job database is not reachable");
      await expect(banner.getByRole("link", { name: "Try again" })).toBeVisible();
      await expect(page.getByRole("heading", { name: "Agent jobs" })).toBeVisible();
      await saveScreenshot(page, testInfo, "dashboard-database-down");

      await page.goto(`${server.baseURL}/dashboard/agents/jobs/00000000-0000-4000-8000-000000000000`);
      await expect(page.getByTestId("error-banner")).toContainText("The job database is not reachable");
    } finally {
      await page.goto("about:blank");
      await server.stop();
    }
  });
});
