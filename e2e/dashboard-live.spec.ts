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
import { withWorkerPaused } from "./support/stack.ts";

test.describe("dashboard: create a job and watch it complete live", () => {
  test("the new job's badge goes yellow, then green, without a reload", async ({ page }) => {
    const problems: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() === "error" || msg.type() === "warning") problems.push(msg.text());
    });
    page.on("pageerror", (err) => problems.push(err.message));
    page.on("response", (res) => {
      if (res.status() >= 400) problems.push(`${res.status()} ${res.url()}`);
    });
    const view = await openDashboard(page);
    await expect(page.getByRole("heading", { name: "Agent jobs" })).toBeVisible();
    const completedBefore = Number(await page.getByTestId("count-COMPLETED").textContent());

    let id = "";
    await withWorkerPaused(async (resume) => {
      // With the worker frozen the job stays PENDING long enough to see it yellow.
      id = await createJobFromForm(page, "ENRICHMENT", examples.enrichment);
      const badge = badgeOf(jobRow(page, id));
      await expect(badge).toHaveAttribute("data-status", "PENDING");
      await expect(badge).toHaveClass(/badge-pending/);
      await expect(badge).toHaveCSS("background-color", "rgb(255, 246, 217)");
      resume();
      await expect(badge).toHaveAttribute("data-status", "COMPLETED");
    });

    const row = jobRow(page, id);
    const badge = badgeOf(row);
    await expect(badge).toHaveText("Completed");
    await expect(badge).toHaveCSS("background-color", "rgb(231, 247, 238)");
    await expect(row.locator('td[data-label="Attempts"]')).toHaveText("1/3");
    await expect(row.locator('td[data-label="Type"]')).toHaveText("Enrichment");
    await expect(page.getByTestId("count-COMPLETED")).toHaveText(String(completedBefore + 1));
    await expectSameDocument(page, view);
    // No hydration mismatch, no failed request, no uncaught error along the way.
    expect(problems).toEqual([]);
  });
});
