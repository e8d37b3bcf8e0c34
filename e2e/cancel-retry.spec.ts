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

test.describe("cancel and retry", () => {
  test("from the dashboard: cancel a pending job, retry it, and it completes", async ({ page }) => {
    const view = await openDashboard(page);
    await withWorkerPaused(async (resume) => {
      const id = await createJobFromForm(page, "ENRICHMENT", examples.enrichment);
      const row = jobRow(page, id);
      await expect(badgeOf(row)).toHaveAttribute("data-status", "PENDING");

      await row.getByRole("button", { name: `Cancel job ${id.slice(0, 8)}` }).click();
      await expect(badgeOf(row)).toHaveAttribute("data-status", "FAILED");
      await expect(row).toContainText("Cancelled by request");

      await row.getByRole("button", { name: `Retry job ${id.slice(0, 8)}` }).click();
      await expect(badgeOf(row)).toHaveAttribute("data-status", "PENDING");
      resume();
      await expect(badgeOf(row)).toHaveAttribute("data-status", "COMPLETED");
    });
    await expectSameDocument(page, view);
  });

  test("from the detail page: retry a failed job runs it again", async ({ page }) => {
    await openDashboard(page);
    const id = await createJobFromForm(page, "OUTREACH", examples.outreachMissingCompany);
    await expect(badgeOf(jobRow(page, id))).toHaveAttribute("data-status", "FAILED");
    await page.goto(`/dashboard/agents/jobs/${id}`);
    await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
    await expect(page.getByTestId("job-error")).toContainText("Missing template variables: company");
    const logs = page.getByTestId("job-logs");
    await expect(logs.getByText(/Attempt 1 of 3 started/)).toHaveCount(1);

    await page.getByRole("button", { name: "Retry" }).click();
    // The job runs again (the input is still missing the variable, so it fails again).
    await expect(logs).toContainText("Retry requested");
    await expect(logs.getByText(/Attempt 1 of 3 started/)).toHaveCount(2);
    await expect(badgeOf(page.locator("article"))).toHaveAttribute("data-status", "FAILED");
    await expect(page.getByRole("button", { name: "Retry" })).toBeVisible();
  });

  test("from the detail page: cancel a pending job", async ({ page }) => {
    await openDashboard(page);
    await withWorkerPaused(async () => {
      const id = await createJobFromForm(page, "ENRICHMENT", examples.enrichment);
      await page.goto(`/dashboard/agents/jobs/${id}`);
      await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
      await page.getByRole("button", { name: "Cancel" }).click();
      await expect(badgeOf(page.locator("article"))).toHaveAttribute("data-status", "FAILED");
      await expect(page.getByTestId("job-error")).toContainText("Cancelled by request");
      await expect(page.getByRole("button", { name: "Retry" })).toBeVisible();
    });
  });
});
