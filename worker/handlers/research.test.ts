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
