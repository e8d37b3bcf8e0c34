import { badgeOf, createJobFromForm, examples, expect, openDashboard, test } from "./support/fixtures.ts";
import { withWorkerPaused } from "./support/stack.ts";

test.describe("job detail", () => {
  test("shows input, output and the logs streaming in while the job runs", async ({ page }) => {
    await openDashboard(page);
    await withWorkerPaused(async (resume) => {
      const id = await createJobFromForm(page, "RESEARCH", examples.research);
      await page.getByTestId("create-success").getByRole("link").click();
      await expect(page).toHaveURL(new RegExp(`/dashboard/agents/jobs/${id}$`));
      await expect(page.getByRole("heading", { level: 1 })).toContainText(id.slice(0, 8));
      await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
      await expect(badgeOf(page.locator("article"))).toHaveAttribute("data-status", "PENDING");
      await expect(page.getByTestId("job-input")).toContainText('"topic": "Durable job queues"');
      await expect(page.getByText("Available when the job completes.")).toBeVisible();
      const marker = await page.evaluate(() => ((window as unknown as { __m: number }).__m = 42));

      resume();
      const logs = page.getByTestId("job-logs");
      await expect(logs).toContainText("Attempt 1 of 3 started");
      await expect(logs).toContainText(/Completed in \d+ ms/);
      await expect(badgeOf(page.locator("article"))).toHaveAttribute("data-status", "COMPLETED");
      await expect(page.getByTestId("job-output")).toContainText('"keyTerms"');
      await expect(page.getByRole("progressbar", { name: "Job progress" })).toHaveAttribute("aria-valuenow", "100");
      // Streamed in place: the document is the one that was opened.
      expect(await page.evaluate(() => (window as unknown as { __m?: number }).__m)).toBe(marker);
    });
  });

  test("an unknown job id shows a not-found page", async ({ page }) => {
    // The status stays 200: the jobs segment's loading UI starts streaming before the lookup ends.
    await page.goto("/dashboard/agents/jobs/00000000-0000-4000-8000-000000000000");
    await expect(page.getByTestId("job-not-found")).toBeVisible();
    await expect(page.getByRole("link", { name: "Back to all jobs" })).toBeVisible();
  });
});
