import { expect, openDashboard, test } from "./support/fixtures.ts";
import { closeEngine, createJob } from "./support/engine.ts";

test.afterAll(async () => {
  await closeEngine();
});

test.describe("filters and pagination", () => {
  test("status and type filters update the URL; Older/Newest page through without overlap", async ({ page }) => {
    // More ENRICHMENT jobs than one page holds (25).
    for (let i = 0; i < 30; i++) {
      await createJob("ENRICHMENT", { record: { name: `Person ${i}`, email: `p${i}@example.com` } });
    }

    await openDashboard(page);
    const jobsCard = page.locator("section.jobs-card");
    await jobsCard.getByLabel("Type", { exact: true }).selectOption("ENRICHMENT");
    await expect(page).toHaveURL(/\?type=ENRICHMENT$/);
    await expect(page.getByRole("heading", { name: "Matching jobs" })).toBeVisible();
    const rows = page.locator("tbody tr[data-job-id]");
    await expect(rows).toHaveCount(25);
    await expect(page.locator('tbody td[data-label="Type"]').filter({ hasNotText: "Enrichment" })).toHaveCount(0);
    const firstPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-job-id")!));

    await page.getByRole("link", { name: "Older →" }).click();
    await expect(page).toHaveURL(/type=ENRICHMENT&cursor=/);
    await expect(page.getByRole("link", { name: "← Newest" })).toBeVisible();
    const secondPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-job-id")!));
    expect(secondPage.length).toBeGreaterThan(0);
    expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);
    await page.getByRole("link", { name: "← Newest" }).click();
    await expect(page).toHaveURL(/\?type=ENRICHMENT$/);
    await expect(rows.first()).toHaveAttribute("data-job-id", firstPage[0]!);

    await jobsCard.getByLabel("Status", { exact: true }).selectOption("FAILED");
    await expect(page).toHaveURL(/status=FAILED/);
    await expect(
      page.locator("tbody tr[data-job-id]").filter({ hasNot: page.locator('[data-status="FAILED"]') }),
    ).toHaveCount(0);

    // The count cards are filters too.
    await page.getByTestId("stat-COMPLETED").click();
    await expect(page).toHaveURL(/status=COMPLETED&type=ENRICHMENT/);
    await expect(page.getByTestId("stat-COMPLETED")).toHaveAttribute("aria-current", "page");
    await page.getByRole("link", { name: "Clear filters" }).first().click();
    await expect(page).toHaveURL(/\/dashboard\/agents\/jobs$/);
  });

  test("Refresh re-reads the page without reloading the document", async ({ page }) => {
    const view = await openDashboard(page);
    const job = await createJob("ENRICHMENT", { record: { name: "Refresh me" } });
    await page.getByTestId("refresh").click();
    await expect(page.locator(`tr[data-job-id="${job.id}"]`)).toBeVisible();
    await expect(page.getByTestId("refresh")).toHaveText(/Refresh/);
    expect(await page.evaluate(() => (window as unknown as { __e2eMarker?: string }).__e2eMarker)).toBe(view.marker);
  });
});
