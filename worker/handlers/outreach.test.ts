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

describe("outreachHandler on adversarial input near the size limits", () => {
  const contact = { firstName: "ada", email: "ada@example.com" };

  async function timedOutreach(label: string, raw: unknown) {
    const bytes = Buffer.byteLength(JSON.stringify(raw));
    expect(bytes).toBeLessThanOrEqual(256 * 1024);
    const input = parseInput(raw);
    const { ctx } = createTestContext();
    const started = performance.now();
    try {
      return await outreachHandler(input, ctx);
    } finally {
      console.log(`OUTREACH ${label}: ${bytes} bytes in ${(performance.now() - started).toFixed(1)} ms`);
    }
  }

  it("refuses a template that would expand a long variable into megabytes, before rendering it", async () => {
    // 12 KB of input, 2.5 million characters of output if rendered.
    const run = timedOutreach("1,250 placeholders of a 2,000-character value", {
      template: "{{note}}".repeat(1_250),
      contact: { ...contact, note: "v".repeat(2_000) },
    });

    await expect(run).rejects.toThrow(PermanentJobError);
    await expect(run).rejects.toThrow("The message would render to 2500000 characters; the limit is 100000");
  });

  it("refuses a subject that would render to more than the limit", async () => {
    await expectPermanentError(
      { subject: "{{n}}".repeat(60), template: "Hi", contact: { ...contact, n: "v".repeat(2_000) } },
      "The subject would render to 120000 characters; the limit is 100000",
    );
  });

  it("renders a message just under the limit", async () => {
    const output = await timedOutreach("49 placeholders of a 2,000-character value", {
      template: "{{note}}\n".repeat(49),
      contact: { ...contact, note: "v ".repeat(1_000) },
    });

    expect(jobTypes.OUTREACH.output.parse(output)).toEqual(output);
    expect(output.body).toHaveLength(49 * 1_999 + 48);
  });

  it.each([
    [
      "an unclosed placeholder before 10,000 spaces",
      "{{" + " ".repeat(9_990) + "x",
      "Malformed template placeholder: {{",
    ],
    ["2,500 unclosed placeholders", "{{ a".repeat(2_500), "Malformed template placeholder: {{"],
    ["a 10,000-character identifier", "{{" + "a".repeat(9_990), "Malformed template placeholder: {{"],
    ["2,000 placeholders of a missing variable", "{{a}}".repeat(2_000), "Missing template variables: a"],
  ])("finishes on %s", async (label, template, message) => {
    await expect(timedOutreach(label, { template, contact })).rejects.toThrow(message);
  });

  it.each([
    ["10,000 line breaks", "x" + "\n".repeat(9_990) + "x", "x\n\nx"],
    ["10,000 carriage returns", "x" + "\r".repeat(9_990) + "x", "x\n\nx"],
    ["10,000 spaces and tabs", "x" + " \t".repeat(4_990) + "x", "x x"],
  ])("finishes on %s", async (label, template, body) => {
    const output = await timedOutreach(label, { template, contact });

    expect(jobTypes.OUTREACH.output.parse(output)).toEqual(output);
    expect(output.body).toBe(body);
  });

  it("finishes on a contact of 10,000 fields", async () => {
    const fields = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`field${i}`, " x   y "]));
    const output = await timedOutreach("10,000 contact fields", {
      template: "Hi {{firstName}}, {{field9999}}",
      contact: { ...contact, ...fields },
    });

    expect(jobTypes.OUTREACH.output.parse(output)).toEqual(output);
    expect(output.body).toBe("Hi Ada, x y");
  });
});
