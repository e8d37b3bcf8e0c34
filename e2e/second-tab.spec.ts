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

test.describe("two tabs", () => {
  test("a second tab receives the same updates", async ({ context }) => {
    const first = await context.newPage();
    const second = await context.newPage();
    const firstView = await openDashboard(first);
    const secondView = await openDashboard(second);

    await withWorkerPaused(async (resume) => {
      const id = await createJobFromForm(first, "ENRICHMENT", examples.enrichment);
      // The other tab learns about the job from the live feed alone.
      await expect(badgeOf(jobRow(second, id))).toHaveAttribute("data-status", "PENDING");
      resume();
      await expect(badgeOf(jobRow(first, id))).toHaveAttribute("data-status", "COMPLETED");
      await expect(badgeOf(jobRow(second, id))).toHaveAttribute("data-status", "COMPLETED");
    });

    const failing = await createJobFromForm(second, "OUTREACH", examples.outreachMissingCompany);
    await expect(badgeOf(jobRow(first, failing))).toHaveAttribute("data-status", "FAILED");
    await expect(badgeOf(jobRow(second, failing))).toHaveAttribute("data-status", "FAILED");

    const counts = async (page: typeof first) =>
      Promise.all(
        ["PENDING", "RUNNING", "COMPLETED", "FAILED"].map((s) => page.getByTestId(`count-${s}`).textContent()),
      );
    await expect.poll(async () => JSON.stringify(await counts(second))).toBe(JSON.stringify(await counts(first)));

    await expectSameDocument(first, firstView);
    await expectSameDocument(second, secondView);
  });
});
