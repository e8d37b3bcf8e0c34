import { describe, expect, it } from "vitest";
import { PermanentJobError } from "../../src/lib/agents/handler-context.ts";
import { jobTypes } from "../../src/lib/agents/job-types.ts";
import { createTestContext } from "../../src/test-support/handler-context.ts";
import { handlers } from "./index.ts";
import { researchHandler, splitSentences, tokenize } from "./research.ts";


const parseInput = (input: unknown) => jobTypes.RESEARCH.input.parse(input);

describe("researchHandler", () => {
  it("is the RESEARCH entry of the handler map", () => {
    expect(handlers.RESEARCH).toBe(researchHandler);
  });

  it("runs the job type's example into a valid brief", async () => {
    const { ctx } = createTestContext();
    const output = await researchHandler(parseInput(jobTypes.RESEARCH.example), ctx);

    expect(jobTypes.RESEARCH.output.parse(output)).toEqual(output);
    expect(output.topic).toBe("Job queues");
    // "jobs" and "queues" fold into their singulars; "done" and the like are stop words.
    expect(output.keyTerms.slice(0, 4)).toEqual([
      { term: "job", count: 3 },
      { term: "queue", count: 3 },
      { term: "crashes", count: 1 },
      { term: "durable", count: 1 },
    ]);
    expect(output.keyTerms).toHaveLength(10);
    expect(output.topSentences).toEqual([
      { sentence: "Durable queues keep jobs when a process crashes.", score: 0.4167, sourceIndex: 0 },
      { sentence: "A job queue stores work to be done later.", score: 0.2963, sourceIndex: 0 },
      { sentence: "Workers take jobs from the queue and run them.", score: 0.2963, sourceIndex: 0 },
    ]);
    expect(output.sources).toEqual([
      {
        title: "Queues",
        wordCount: 26,
        summary:
          "A job queue stores work to be done later. Workers take jobs from the queue and run them. Durable queues keep jobs when a process crashes.",
      },
    ]);
    expect(output.stats).toEqual({ sourceCount: 1, wordCount: 26, sentenceCount: 3 });
  });

  it("ranks sentences across sources and summarises each source in its own order", async () => {
    const { ctx } = createTestContext();
    const output = await researchHandler(
      parseInput({
        topic: "Storage engines",
        maxKeyTerms: 4,
        summarySentences: 2,
        sources: [
          {
            title: "Redis",
            text: "Redis stores data in memory. Redis is fast because memory is fast. Dr. Smith says Redis writes snapshots to disk.",
          },
          { url: "https://example.com/pg", text: "Postgres stores rows on disk.\n\nPostgres is durable." },
          { text: "Memory is cheap." },
        ],
      }),
      ctx,
    );

    expect(output.keyTerms).toEqual([
      { term: "memory", count: 3 },
      { term: "redis", count: 3 },
      { term: "disk", count: 2 },
      { term: "fast", count: 2 },
    ]);
    expect(output.topSentences).toEqual([
      { sentence: "Redis is fast because memory is fast.", score: 0.4762, sourceIndex: 0 },
      { sentence: "Redis stores data in memory.", score: 0.3333, sourceIndex: 0 },
    ]);
    expect(output.sources).toEqual([
      {
        title: "Redis",
        wordCount: 20,
        summary: "Redis stores data in memory. Redis is fast because memory is fast.",
      },
      {
        title: "https://example.com/pg",
        url: "https://example.com/pg",
        wordCount: 8,
        summary: "Postgres stores rows on disk. Postgres is durable.",
      },
      { title: "Source 3", wordCount: 3, summary: "Memory is cheap." },
    ]);
    expect(output.stats).toEqual({ sourceCount: 3, wordCount: 31, sentenceCount: 6 });
    expect(jobTypes.RESEARCH.output.parse(output)).toEqual(output);
  });

  it("breaks equal counts alphabetically and quotes a sentence repeated across sources once", async () => {
    const { ctx } = createTestContext();
    const sentence = "Zebras and apples and mangoes share nothing at all.";
    const output = await researchHandler(
      parseInput({ topic: "Ties", maxKeyTerms: 3, sources: [{ text: sentence }, { text: sentence }] }),
      ctx,
    );

    expect(output.keyTerms).toEqual([
      { term: "apples", count: 2 },
      { term: "mangoes", count: 2 },
      { term: "nothing", count: 2 },
    ]);
    expect(output.topSentences).toEqual([{ sentence, score: 0.3333, sourceIndex: 0 }]);
  });

  it("logs a summary and reports progress", async () => {
    const { ctx, logs, progress } = createTestContext();
    await researchHandler(parseInput(jobTypes.RESEARCH.example), ctx);

    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: "info" });
    expect(logs[0]?.message).toBe(
      'Research brief on "Job queues": 1 source, 26 words, 3 sentences; ' +
        "key terms job, queue, crashes, durable, keep, later, process, run, stores, take",
    );
    expect(progress).toEqual([5, 50, 70, 95]);
  });

  it("fails permanently when the sources hold no words", async () => {
    const { ctx } = createTestContext();
    const run = researchHandler(parseInput({ topic: "Nothing", sources: [{ text: "... !!! ???" }] }), ctx);

    await expect(run).rejects.toThrow(PermanentJobError);
    await expect(run).rejects.toThrow("Sources contain no words to analyse");
  });

  it("stops when the job is aborted", async () => {
    const { ctx, controller } = createTestContext();
    controller.abort();

    await expect(researchHandler(parseInput(jobTypes.RESEARCH.example), ctx)).rejects.toMatchObject({
      name: "AbortError",
    });
  });
});

describe("splitSentences", () => {
  it("does not split after abbreviations, initials or decimals", () => {
    expect(
      splitSentences("Dr. Smith met J. R. R. Tolkien in the U.S. in 1950. He paid 3.5 dollars, e.g. coins."),
    ).toEqual(["Dr. Smith met J. R. R. Tolkien in the U.S. in 1950.", "He paid 3.5 dollars, e.g. coins."]);
  });

  it("splits headings, list items and paragraphs but joins wrapped lines", () => {
    const text =
      "Overview\nQueues hold jobs. Workers run\nthem later!\n\n- First item\n- second item\n\nWhy... Because.";
    expect(splitSentences(text)).toEqual([
      "Overview",
      "Queues hold jobs.",
      "Workers run them later!",
      "First item",
      "second item",
      "Why...",
      "Because.",
    ]);
  });
});

describe("tokenize", () => {
  it("lower-cases words, keeps contractions and hyphens, and drops possessive 's", () => {
    expect(tokenize("The queue’s re-run didn't fail: 42 jobs.")).toEqual([
      "the",
      "queue",
      "re-run",
      "didn't",
      "fail",
      "42",
      "jobs",
    ]);
  });
});

/** The API refuses inputs whose JSON is larger than this (MAX_INPUT_BYTES' default). */
const MAX_INPUT_BYTES = 256 * 1024;
/** What the adversarial inputs below aim for: just under the limit. */
const TARGET_BYTES = 250_000;

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
/** `unit` repeated as often as fits in `bytes` of JSON (a newline takes two bytes there, "…" three). */
const repeatToBytes = (unit: string, bytes: number) => unit.repeat(Math.floor(bytes / (jsonBytes(unit) - 2)));

/** The handler's time on a parsed input; printed, not asserted, so a slow machine cannot fail the test. */
async function timedResearch(label: string, raw: { topic: string; sources: { text: string }[] }) {
  expect(jsonBytes(raw)).toBeLessThanOrEqual(MAX_INPUT_BYTES);
  const input = parseInput(raw);
  const { ctx } = createTestContext();
  const started = performance.now();
  try {
    return await researchHandler(input, ctx);
  } finally {
    console.log(`RESEARCH ${label}: ${jsonBytes(raw)} bytes in ${(performance.now() - started).toFixed(1)} ms`);
  }
}

describe("researchHandler on adversarial input near the size limits", () => {
  // Each of these used to take from seconds to minutes, blocking the worker's event loop: a
  // regex rescanned the text before every full stop, and another retried every dot of a long run.
  const perSource = (count: number) => Math.floor(TARGET_BYTES / count) - 100;
  const threeOf = (text: string) => ({ topic: "t", sources: [text, text, text].map((t) => ({ text: t })) });
  const cases: {
    name: string;
    input: () => { topic: string; sources: { text: string }[] };
    sentences: number;
    words: number;
  }[] = [
    {
      name: "the reported input: a long word, then 800 initials",
      input: () => ({ topic: "t", sources: [{ text: "x".repeat(12_000) + " " + "A. ".repeat(800) }] }),
      sentences: 1,
      words: 801,
    },
    {
      name: "the reported input scaled to 250 KB",
      input: () => threeOf("x".repeat(30_000) + " " + "A. ".repeat(17_600)),
      sentences: 3,
      words: 3 * 17_601,
    },
    {
      name: "the reported input in 50 sources",
      input: () => ({
        topic: "t",
        sources: Array.from({ length: 50 }, () => ({ text: "x".repeat(2_000) + " " + "A. ".repeat(1_000) })),
      }),
      sentences: 50,
      words: 50 * 1_001,
    },
    {
      name: "one word per source",
      input: () => threeOf("w".repeat(perSource(3))),
      sentences: 3,
      words: 3,
    },
    {
      name: "5,000-letter words, each ending a sentence",
      input: () => threeOf(repeatToBytes("X" + "x".repeat(4_999) + ". ", perSource(3))),
      sentences: 3 * Math.floor(perSource(3) / 5_002),
      words: 3 * Math.floor(perSource(3) / 5_002),
    },
    {
      name: "dots without spaces",
      input: () => threeOf(".".repeat(perSource(3)) + "a"),
      sentences: 3,
      words: 3,
    },
    {
      name: "dots separated by spaces",
      input: () => threeOf(repeatToBytes(". ", perSource(3)) + "a"),
      sentences: 3,
      words: 3,
    },
    {
      name: "runs of 1,000 dots",
      input: () => threeOf(repeatToBytes(".".repeat(1_000) + "x", perSource(3)) + " a"),
      sentences: 3,
      words: 3 * (Math.floor(perSource(3) / 1_001) + 1),
    },
    {
      name: "abbreviations",
      input: () => threeOf(repeatToBytes("Dr. e.g. No. ", perSource(3))),
      sentences: 3,
      // "e.g" is two words: dr, e, g, no.
      words: 3 * 4 * Math.floor(perSource(3) / 13),
    },
    {
      name: "initials",
      input: () => threeOf(repeatToBytes("A. B. ", perSource(3))),
      sentences: 3,
      words: 3 * 2 * Math.floor(perSource(3) / 6),
    },
    {
      name: "initials without spaces",
      input: () => threeOf(repeatToBytes("A.", perSource(3))),
      sentences: 3,
      words: 3 * Math.floor(perSource(3) / 2),
    },
    {
      name: "a four-character sentence repeated",
      input: () => threeOf(repeatToBytes("Ab. ", perSource(3))),
      sentences: 3 * Math.floor(perSource(3) / 4),
      words: 3 * Math.floor(perSource(3) / 4),
    },
    {
      name: "one-letter words",
      input: () => threeOf(repeatToBytes("a ", perSource(3))),
      sentences: 3,
      words: 3 * Math.floor(perSource(3) / 2),
    },
    {
      name: "wrapped lines",
      input: () => threeOf("Start\n" + repeatToBytes("a\n", perSource(3) - 7)),
      sentences: 3,
      words: 3 * (1 + Math.floor((perSource(3) - 7) / 3)),
    },
    {
      name: "list items",
      input: () => threeOf(repeatToBytes("- a\n", perSource(3))),
      sentences: 3 * Math.floor(perSource(3) / 5),
      words: 3 * Math.floor(perSource(3) / 5),
    },
    {
      name: "a long run of spaces",
      input: () => threeOf("a" + " ".repeat(perSource(3) - 2) + "b"),
      sentences: 3,
      words: 6,
    },
    {
      name: "closing punctuation, then one word",
      input: () => threeOf(repeatToBytes(".!?…')]", perSource(3) - 5) + " word"),
      sentences: 3,
      words: 3,
    },
    {
      name: "ellipses",
      input: () => threeOf("…".repeat(Math.floor((perSource(3) - 2) / 3)) + " a"),
      sentences: 3,
      words: 3,
    },
  ];

  it.each(cases)("finishes on $name", async ({ name, input, sentences, words }) => {
    const output = await timedResearch(name, input());

    expect(jobTypes.RESEARCH.output.parse(output)).toEqual(output);
    expect(output.stats).toMatchObject({ sentenceCount: sentences, wordCount: words });
  });

  it("finishes on punctuation only, failing permanently", async () => {
    const run = timedResearch("only punctuation", threeOf(repeatToBytes(".!?… ", perSource(3))));

    await expect(run).rejects.toThrow("Sources contain no words to analyse");
  });

  it("yields to the event loop within a long source, and stops there when aborted", async () => {
    const { ctx, controller, progress } = createTestContext();
    const input = parseInput({ topic: "t", sources: [{ text: "Ab. ".repeat(20_000) }] });

    const run = researchHandler(input, ctx);
    // Runs at the handler's first pause inside the source, which checks the signal when it resumes.
    setImmediate(() => controller.abort());

    await expect(run).rejects.toMatchObject({ name: "AbortError" });
    expect(progress).toEqual([5]);
  });
});
