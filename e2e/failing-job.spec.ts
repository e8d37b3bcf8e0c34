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

test.describe("dashboard: a failing job", () => {
  test("a job whose handler fails permanently turns red, with the reason", async ({ page }) => {
    const view = await openDashboard(page);
    const id = await createJobFromForm(page, "OUTREACH", examples.outreachMissingCompany);

    const row = jobRow(page, id);
    const badge = badgeOf(row);
    await expect(badge).toHaveAttribute("data-status", "FAILED");
    await expect(badge).toHaveText("Failed");
    await expect(badge).toHaveCSS("background-color", "rgb(253, 237, 237)");
    await expect(row).toContainText("Missing template variables: company");
    // A permanent failure does not use up the remaining attempts.
    await expect(row.locator('td[data-label="Attempts"]')).toHaveText("1/3");
    await expect(row.getByRole("button", { name: /Retry job/ })).toBeVisible();
    await expectSameDocument(page, view);
  });
});
