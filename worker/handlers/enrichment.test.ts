import { describe, expect, it } from "vitest";
import { PermanentJobError } from "../../src/lib/agents/handler-context.ts";
import { jobTypes } from "../../src/lib/agents/job-types.ts";
import { enrichmentHandler, formatPersonName } from "./enrichment.ts";
import { createTestContext } from "../../src/test-support/handler-context.ts";
import { handlers } from "./index.ts";


async function enrich(record: Record<string, unknown>) {
  const { ctx } = createTestContext();
  const output = await enrichmentHandler(jobTypes.ENRICHMENT.input.parse({ record }), ctx);
  expect(jobTypes.ENRICHMENT.output.parse(output)).toEqual(output);
  return output;
}

describe("enrichmentHandler", () => {
  it("is the ENRICHMENT entry of the handler map", () => {
    expect(handlers.ENRICHMENT).toBe(enrichmentHandler);
  });

  it("normalises the job type's example", async () => {
    const { ctx } = createTestContext();
    const output = await enrichmentHandler(jobTypes.ENRICHMENT.input.parse(jobTypes.ENRICHMENT.example), ctx);

    expect(output).toEqual({
      record: { name: "Grace Hopper", email: "grace@navy.mil", country: "US", phone: "+15550109999" },
      domain: "navy.mil",
      changes: [
        { field: "name", from: "  grace HOPPER ", to: "Grace Hopper" },
        { field: "email", from: "Grace@Navy.MIL", to: "grace@navy.mil" },
        { field: "country", from: "united states", to: "US" },
        { field: "phone", from: "+1 (555) 010-9999", to: "+15550109999" },
      ],
      warnings: [],
    });
    expect(jobTypes.ENRICHMENT.output.parse(output)).toEqual(output);
  });

  it("takes the domain from the website when the email is free-mail, and drops empty and duplicate fields", async () => {
    const output = await enrich({
      name: "ada   LOVELACE",
      email: " ADA@Gmail.com ",
      website: "https://www.Analytical-Engines.co.uk/about?x=1",
      country: "UK",
      phone: "0044 (0)20 7946 0000",
      title: "  ",
      workEmail: "ada@gmail.com",
      notes: null,
      employees: 12,
    });

    expect(output).toEqual({
      record: {
        name: "Ada Lovelace",
        email: "ada@gmail.com",
        website: "https://www.Analytical-Engines.co.uk/about?x=1",
        country: "GB",
        phone: "+442079460000",
        notes: null,
        employees: 12,
      },
      domain: "analytical-engines.co.uk",
      changes: [
        { field: "name", from: "ada   LOVELACE", to: "Ada Lovelace" },
        { field: "email", from: " ADA@Gmail.com ", to: "ada@gmail.com" },
        { field: "country", from: "UK", to: "GB" },
        { field: "phone", from: "0044 (0)20 7946 0000", to: "+442079460000" },
        { field: "title", from: "  ", to: null },
        { field: "workEmail", from: "ada@gmail.com", to: null },
      ],
      warnings: ["email domain gmail.com is a free-mail provider, not a company domain"],
    });
  });

  it("keeps the known field when an extra field repeats it, whatever the key order", async () => {
    const output = await enrich({
      secondaryEmail: "OPS@acme.com",
      email: "ops@acme.com",
      company: "Acme",
      brand: "ACME ",
    });

    expect(output.record).toEqual({ email: "ops@acme.com", company: "Acme" });
    expect(output.changes).toEqual([
      { field: "secondaryEmail", from: "OPS@acme.com", to: null },
      { field: "brand", from: "ACME ", to: null },
    ]);
    expect(output.domain).toBe("acme.com");
  });

  it("prefers the website's domain over a mail subdomain of the same site, and warns when they differ", async () => {
    const sameSite = await enrich({ email: "sales@eu.acme.com", website: "acme.com/contact" });
    expect(sameSite.domain).toBe("acme.com");
    expect(sameSite.warnings).toEqual([]);

    const otherSite = await enrich({ email: "sales@acme.com", website: "http://acme.io" });
    expect(otherSite.domain).toBe("acme.com");
    expect(otherSite.warnings).toEqual(["email domain acme.com differs from website domain acme.io; using acme.com"]);
  });

  it("maps country names and aliases to ISO codes", async () => {
    const codes: Record<string, string> = {
      USA: "US",
      "U.S.A.": "US",
      "United States of America": "US",
      "united kingdom": "GB",
      England: "GB",
      Deutschland: "DE",
      "The Netherlands": "NL",
      Holland: "NL",
      España: "ES",
      Österreich: "AT",
      "Korea, Republic of": "KR",
      "Côte d'Azur": "Côte d'Azur",
      fr: "FR",
      JPN: "JP",
      "  new   zealand ": "NZ",
    };
    for (const [country, code] of Object.entries(codes)) {
      const output = await enrich({ company: "Acme", country });
      expect(output.record.country, country).toBe(code);
    }
  });

  it("warns about values it cannot use instead of failing", async () => {
    const output = await enrich({
      company: "Acme",
      email: "not an email",
      website: "nope",
      country: "Atlantis",
      phone: "+1 23",
      mobile: "555-0199",
    });

    expect(output.record).toEqual({
      company: "Acme",
      email: "not an email",
      website: "nope",
      country: "Atlantis",
      phone: "+1 23",
      mobile: "555-0199",
    });
    expect(output.domain).toBeNull();
    expect(output.changes).toEqual([]);
    expect(output.warnings).toEqual([
      'email "not an email" is not a valid email address',
      'website "nope" has no usable domain',
      'country "Atlantis" is not recognised; left as is',
      'phone "+1 23" is not a valid international number',
      'mobile "555-0199" has no country code (+ or 00); left as is',
    ]);
  });

  it("fails permanently when nothing usable is left", async () => {
    const { ctx } = createTestContext();
    const input = jobTypes.ENRICHMENT.input.parse({ record: { name: "   ", email: "bad@", title: "" } });
    const run = enrichmentHandler(input, ctx);

    await expect(run).rejects.toThrow(PermanentJobError);
    await expect(run).rejects.toThrow(
      "Record has nothing usable after normalisation (empty: name, title; invalid: email)",
    );
  });

  it("logs warnings and a summary and reports progress", async () => {
    const { ctx, logs, progress } = createTestContext();
    await enrichmentHandler(
      jobTypes.ENRICHMENT.input.parse({ record: { name: "ada", email: "ada@gmail.com", title: "" } }),
      ctx,
    );

    expect(logs.map(({ level, message }) => ({ level, message }))).toEqual([
      { level: "warn", message: "email domain gmail.com is a free-mail provider, not a company domain" },
      { level: "info", message: "Normalised 3 fields: 2 changed, 1 removed, 1 warning; domain unknown" },
    ]);
    expect(progress).toEqual([40, 60, 80]);
  });

  it("stops when the job is aborted", async () => {
    const { ctx, controller } = createTestContext();
    controller.abort();
    const input = jobTypes.ENRICHMENT.input.parse(jobTypes.ENRICHMENT.example);

    await expect(enrichmentHandler(input, ctx)).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("formatPersonName", () => {
  it.each([
    ["  grace HOPPER ", "Grace Hopper"],
    ["o'brien", "O'Brien"],
    ["d’angelo", "D’Angelo"],
    ["MARY-KATE mcdonald", "Mary-Kate McDonald"],
    ["LUDWIG VAN BEETHOVEN", "Ludwig van Beethoven"],
    ["van morrison", "Van Morrison"],
    ["DeAndre JORDAN", "DeAndre Jordan"],
    ["henry ford ii", "Henry Ford II"],
    ["j.r.r. tolkien", "J.R.R. Tolkien"],
    ["ÉMILE zola", "Émile Zola"],
  ])("%s -> %s", (name, expected) => {
    expect(formatPersonName(name)).toBe(expected);
  });
});

describe("enrichmentHandler on adversarial input near the size limits", () => {
  async function timedEnrichment(label: string, record: Record<string, unknown>) {
    const bytes = Buffer.byteLength(JSON.stringify({ record }));
    expect(bytes).toBeLessThanOrEqual(256 * 1024);
    const input = jobTypes.ENRICHMENT.input.parse({ record });
    const context = createTestContext();
    const started = performance.now();
    try {
      return { output: await enrichmentHandler(input, context.ctx), logs: context.logs };
    } finally {
      console.log(`ENRICHMENT ${label}: ${bytes} bytes in ${(performance.now() - started).toFixed(1)} ms`);
    }
  }

  it("logs 20 warnings one by one and counts the rest in one entry, keeping all in the output", async () => {
    // Each log entry is an UPDATE that rewrites the job's whole log array: 12,000 of them took minutes.
    const record = Object.fromEntries(Array.from({ length: 12_000 }, (_, i) => [`phone${i}Phone`, "x"]));
    const { output, logs } = await timedEnrichment("12,000 fields that warn", { company: "Acme", ...record });

    expect(jobTypes.ENRICHMENT.output.parse(output)).toEqual(output);
    expect(output.warnings).toHaveLength(12_000);
    expect(logs).toHaveLength(22);
    expect(logs.slice(0, 20).map(({ message }) => message)).toEqual(output.warnings.slice(0, 20));
    expect(logs[20]).toMatchObject({
      level: "warn",
      message: "11980 more warnings not logged; all 12000 are in the output",
    });
    expect(logs[21]).toMatchObject({ level: "info" });
  });

  it("logs every warning when there are no more than 20", async () => {
    const record = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`phone${i}Phone`, "x"]));
    const { output, logs } = await timedEnrichment("20 fields that warn", { company: "Acme", ...record });

    expect(logs.filter(({ level }) => level === "warn").map(({ message }) => message)).toEqual(output.warnings);
    expect(output.warnings).toHaveLength(20);
  });

  it.each([
    ["12,000 duplicate fields", Object.fromEntries(Array.from({ length: 12_000 }, (_, i) => [`field${i}`, "Same"]))],
    [
      "keys of 10,000 characters ending in email",
      {
        company: "Acme",
        ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`${i}${"email".repeat(2_000)}`, "x"])),
      },
    ],
    [
      "long names",
      {
        name: "mc".repeat(150),
        fullName: "a-".repeat(1_000),
        full_name: "o'".repeat(1_000),
        first_name: "a ".repeat(1_000),
      },
    ],
    [
      "long addresses and hosts",
      {
        company: "Acme",
        email: "a".repeat(319),
        workEmail: "a.".repeat(990) + "@x.com",
        otherEmail: "<" + "a".repeat(1_998),
        homeEmail: "a@" + "a.".repeat(990) + "com",
        website: "a".repeat(2_000),
        homepage: "http://" + "a-".repeat(996),
      },
    ],
    [
      "long phone numbers",
      {
        company: "Acme",
        phone: "+" + "1".repeat(49),
        mobile: "00" + "(0)".repeat(16),
        workPhone: "+" + "(0)".repeat(666),
        homePhone: "+1" + " ".repeat(1_998),
      },
    ],
    ["a long country", { company: "Acme", country: "the ".repeat(25), homeCountry: "U.S.A. ".repeat(280) }],
  ])("finishes on %s", async (label, record) => {
    const { output } = await timedEnrichment(label, record);

    expect(jobTypes.ENRICHMENT.output.parse(output)).toEqual(output);
  });
});
