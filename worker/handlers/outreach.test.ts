import { describe, expect, it } from "vitest";
import { PermanentJobError } from "../../src/lib/agents/handler-context.ts";
import { jobTypes } from "../../src/lib/agents/job-types.ts";
import { createTestContext } from "../../src/test-support/handler-context.ts";
import { handlers } from "./index.ts";
import { outreachHandler } from "./outreach.ts";


const parseInput = (input: unknown) => jobTypes.OUTREACH.input.parse(input);

async function expectPermanentError(input: unknown, message: string) {
  const { ctx } = createTestContext();
  const run = outreachHandler(parseInput(input), ctx);
  await expect(run).rejects.toThrow(PermanentJobError);
  await expect(run).rejects.toThrow(message);
}

describe("outreachHandler", () => {
  it("is the OUTREACH entry of the handler map", () => {
    expect(handlers.OUTREACH).toBe(outreachHandler);
  });

  it("renders the job type's example", async () => {
    const { ctx } = createTestContext();
    const output = await outreachHandler(parseInput(jobTypes.OUTREACH.example), ctx);

    expect(output).toEqual({
      channel: "email",
      to: "ada@example.com",
      subject: "Quick question, Ada",
      body: "Hi Ada,\n\nI saw that Analytical Engines is hiring. Could we talk this week?",
      variablesUsed: ["firstName", "company"],
      characterCount: 74,
    });
    expect(jobTypes.OUTREACH.output.parse(output)).toEqual(output);
  });

  it("fills spaced placeholders, sender fields and extra contact fields, and tidies whitespace", async () => {
    const { ctx } = createTestContext();
    const output = await outreachHandler(
      parseInput({
        subject: "  {{ company }}   and\n{{senderCompany}} ",
        template:
          "Hello {{ firstName }} {{lastName}},  \r\n\r\n\r\n\r\nYou have {{ seats }} seats;   renewal: {{renews}}.\n\n   {{senderName}}\n{{ senderCompany }}",
        contact: {
          firstName: "MARY-KATE",
          lastName: "o'brien",
          email: "Mary@Example.COM",
          company: "Acme   Corp",
          seats: 12,
          renews: true,
        },
        sender: { name: "Grace Hopper", company: "Navy" },
      }),
      ctx,
    );

    expect(output).toEqual({
      channel: "email",
      to: "mary@example.com",
      subject: "Acme Corp and Navy",
      body: "Hello Mary-Kate O'Brien,\n\nYou have 12 seats; renewal: true.\n\nGrace Hopper\nNavy",
      variablesUsed: ["company", "senderCompany", "firstName", "lastName", "seats", "renews", "senderName"],
      characterCount: 78,
    });
  });

  it("keeps deliberate mixed-case first names and does not expand placeholders inside values", async () => {
    const { ctx } = createTestContext();
    const output = await outreachHandler(
      parseInput({
        template: "Hi {{firstName}}, re: {{note}}",
        contact: { firstName: "DeShawn", email: "d@example.com", note: "{{firstName}}" },
      }),
      ctx,
    );

    expect(output.body).toBe("Hi DeShawn, re: {{firstName}}");
  });

  it("renders a LinkedIn note without a subject and counts characters, not UTF-16 units", async () => {
    const { ctx } = createTestContext();
    const output = await outreachHandler(
      parseInput({
        channel: "linkedin",
        template: "Hi {{firstName}} 👋",
        contact: { firstName: "ada", email: "ada@example.com" },
      }),
      ctx,
    );

    expect(output).toEqual({
      channel: "linkedin",
      to: "ada@example.com",
      body: "Hi Ada 👋",
      variablesUsed: ["firstName"],
      characterCount: 8,
    });
    expect(output).not.toHaveProperty("subject");
  });

  it("accepts a LinkedIn body of exactly 300 characters", async () => {
    const { ctx } = createTestContext();
    const template = `{{firstName}} ${"x".repeat(296)}`;
    const output = await outreachHandler(
      parseInput({ channel: "linkedin", template, contact: { firstName: "Ada", email: "ada@example.com" } }),
      ctx,
    );

    expect(output.characterCount).toBe(300);
  });

  it("names every missing variable, in order of first use", async () => {
    await expectPermanentError(
      {
        subject: "About {{company}}",
        template: "Hi {{firstName}}, as {{ title }} at {{company}} you {{blank}}",
        contact: { firstName: "ada", email: "ada@example.com", blank: "   " },
      },
      "Missing template variables: company, title, blank",
    );
  });

  it("treats sender fields as missing when no sender is given", async () => {
    await expectPermanentError(
      { template: "Hi {{firstName}}, {{senderName}}", contact: { firstName: "ada", email: "ada@example.com" } },
      "Missing template variables: senderName",
    );
  });

  it("refuses a LinkedIn body over 300 characters", async () => {
    await expectPermanentError(
      {
        channel: "linkedin",
        template: `Hi {{firstName}}, ${"x".repeat(300)}`,
        contact: { firstName: "ada", email: "ada@example.com" },
      },
      "LinkedIn messages are limited to 300 characters; this one has 308",
    );
  });

  it("refuses a subject on LinkedIn", async () => {
    await expectPermanentError(
      {
        channel: "linkedin",
        subject: "Hello",
        template: "Hi",
        contact: { firstName: "ada", email: "ada@example.com" },
      },
      "A subject is only supported on the email channel, not linkedin",
    );
  });

  it("refuses a malformed placeholder instead of sending it", async () => {
    await expectPermanentError(
      { template: "Hi {{first name}}", contact: { firstName: "ada", email: "ada@example.com" } },
      "Malformed template placeholder: {{first name}}",
    );
  });

  it("logs a summary and reports progress", async () => {
    const { ctx, logs, progress } = createTestContext();
    await outreachHandler(parseInput(jobTypes.OUTREACH.example), ctx);

    expect(logs).toEqual([
      {
        level: "info",
        message: "Rendered email message for ada@example.com: 74 characters, variables firstName, company",
        data: undefined,
      },
    ]);
    expect(progress).toEqual([30, 80]);
  });

  it("stops when the job is aborted", async () => {
    const { ctx, controller } = createTestContext();
    controller.abort();

    await expect(outreachHandler(parseInput(jobTypes.OUTREACH.example), ctx)).rejects.toMatchObject({
      name: "AbortError",
    });
  });
});
