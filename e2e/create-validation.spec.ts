import { expect, openDashboard, test } from "./support/fixtures.ts";
import { closeEngine, countJobs } from "./support/engine.ts";

test.afterAll(async () => {
  await closeEngine();
});

test.describe("create form validation", () => {
  test("invalid JSON is reported in the browser and nothing is sent", async ({ page }) => {
    await openDashboard(page);
    const before = await countJobs();
    const creates: string[] = [];
    page.on("request", (req) => {
      if (req.url().includes("job.create")) creates.push(req.url());
    });

    const form = page.getByTestId("create-job-form");
    const textarea = form.getByLabel("Input (JSON)");
    await textarea.fill('{ "record": { "name": "Ada", } ');
    await form.getByRole("button", { name: "Create job" }).click();

    await expect(form.getByTestId("json-error")).toContainText("Invalid JSON");
    await expect(textarea).toHaveAttribute("aria-invalid", "true");
    await expect(textarea).toBeFocused();
    expect(creates).toEqual([]);
    expect(await countJobs()).toBe(before);
  });

  test("input the job type rejects shows field errors next to the input and creates nothing", async ({ page }) => {
    await openDashboard(page);
    const before = await countJobs();
    const form = page.getByTestId("create-job-form");
    await form.getByLabel("Job type", { exact: true }).selectOption("OUTREACH");
    await form
      .getByLabel("Input (JSON)")
      .fill(JSON.stringify({ template: "Hi {{firstName}}", contact: { email: "not-an-email" } }, null, 2));
    await form.getByRole("button", { name: "Create job" }).click();

    const errors = form.getByTestId("input-field-errors");
    await expect(errors).toBeVisible();
    await expect(errors.locator("li", { hasText: "input.contact.email" })).toBeVisible();
    await expect(errors.locator("li", { hasText: "input.contact.firstName" })).toBeVisible();
    await expect(form.getByLabel("Input (JSON)")).toHaveAttribute("aria-invalid", "true");
    await expect(form.getByTestId("create-success")).toHaveCount(0);
    expect(await countJobs()).toBe(before);

    // Fixing the input clears the errors and creates exactly one job.
    await form.getByRole("button", { name: "Reset to example" }).click();
    await expect(errors).toHaveCount(0);
    await form.getByRole("button", { name: "Create job" }).click();
    await expect(form.getByTestId("create-success")).toBeVisible();
    await expect.poll(countJobs).toBe(before + 1);
  });
});
