import { test as base, expect, type Locator, type Page, type TestInfo } from "@playwright/test";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { artifactsDir } from "./processes.ts";
import { readStackState } from "./stack.ts";

export { expect };

/** Every test talks to the app global setup started, whatever port it got. */
export const test = base.extend({
  baseURL: async ({}, provide) => {
    await provide(readStackState().baseURL);
  },
});

export const dashboardPath = "/dashboard/agents/jobs";

/**
 * Opens the dashboard, waits until the live feed is connected, and leaves a marker on `window`
 * that only survives if the page is never reloaded. `navigations()` counts later navigations.
 */
export async function openDashboard(
  page: Page,
  url = dashboardPath,
): Promise<{ marker: string; navigations: () => number }> {
  await page.goto(url);
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  const marker = `marker-${Math.random().toString(36).slice(2)}`;
  await page.evaluate((m) => {
    (window as unknown as { __e2eMarker: string }).__e2eMarker = m;
  }, marker);
  let count = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) count += 1;
  });
  return { marker, navigations: () => count };
}

/** Asserts the page was neither reloaded nor navigated since openDashboard(). */
export async function expectSameDocument(
  page: Page,
  view: { marker: string; navigations: () => number },
): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { __e2eMarker?: string }).__e2eMarker)).toBe(view.marker);
  expect(view.navigations()).toBe(0);
}

export function jobRow(page: Page, id: string): Locator {
  return page.locator(`tr[data-job-id="${id}"]`);
}

export function badgeOf(scope: Locator | Page): Locator {
  return scope.getByTestId("status-badge").first();
}

/** Fills the create form (type + JSON text) and submits; returns the new job's id. */
export async function createJobFromForm(page: Page, type: string, input: unknown | string): Promise<string> {
  const form = page.getByTestId("create-job-form");
  await form.getByLabel("Job type", { exact: true }).selectOption(type);
  await form.getByLabel("Input (JSON)").fill(typeof input === "string" ? input : JSON.stringify(input, null, 2));
  await form.getByRole("button", { name: "Create job" }).click();
  const success = form.getByTestId("create-success");
  await expect(success).toBeVisible();
  const href = await success.getByRole("link").getAttribute("href");
  const id = href?.split("/").pop();
  if (!id) throw new Error(`no job link in the success message (${href})`);
  return decodeURIComponent(id);
}

/** Full-page screenshot into e2e-artifacts/ and attached to the report. */
export async function saveScreenshot(
  page: Page,
  testInfo: TestInfo,
  name: string,
  { fullPage = true }: { fullPage?: boolean } = {},
): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage, animations: "disabled" });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
  return file;
}

export const examples = {
  enrichment: {
    record: { name: "  grace HOPPER ", email: "Grace@Navy.MIL", country: "united states", phone: "+1 (555) 010-9999" },
  },
  outreach: {
    channel: "email",
    subject: "Quick question, {{firstName}}",
    template: "Hi {{firstName}},\n\nI saw that {{company}} is hiring. Could we talk this week?",
    contact: { firstName: "ada", email: "ada@example.com", company: "Analytical Engines" },
  },
  /** Fails permanently: the template needs {{company}}, the contact has none. */
  outreachMissingCompany: {
    channel: "email",
    template: "Hello {{firstName}}, how is {{company}} doing?",
    contact: { firstName: "Alan", email: "alan@example.com" },
  },
  research: {
    topic: "Durable job queues",
    sources: [
      {
        title: "Queues",
        text: "A job queue stores work to be done later. Workers take jobs from the queue and run them. Durable queues keep jobs when a process crashes.",
      },
      {
        title: "Retries",
        text: "Retries with exponential backoff let transient failures heal. A job that fails permanently should not be retried. Idempotent handlers make retries safe.",
      },
    ],
  },
};
