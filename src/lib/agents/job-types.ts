import { z } from "zod";
import type { AgentJobType } from "../../generated/prisma/enums.ts";
import type { HandlerContext } from "./handler-context.ts";

/**
 * One definition per job type, shared by the API (validation, defaults, the dashboard's example)
 * and the worker (execution). Handlers live in worker/handlers/ and are typed against these.
 */
export type JobDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> = {
  type: AgentJobType;
  description: string;
  input: I;
  output: O;
  /** A valid input, used as the dashboard form's starting point and in docs. */
  example: z.input<I>;
  /** Total runs allowed, the first included. */
  attempts: number;
  /** First retry delay; doubles on each further retry. */
  backoffMs: number;
  /** A run that takes longer is aborted and counts as a failed attempt. */
  timeoutMs: number;
};

const text = (max: number) => z.string().trim().min(1).max(max);

const researchInput = z.object({
  topic: text(200),
  sources: z
    .array(
      z.object({
        title: text(300).optional(),
        url: z.string().url().max(2000).optional(),
        text: text(100_000),
      }),
    )
    .min(1)
    .max(50),
  /** How many key terms to return. */
  maxKeyTerms: z.number().int().min(1).max(50).default(10),
  /** How many sentences to quote, overall and per source summary. */
  summarySentences: z.number().int().min(1).max(10).default(3),
});

const researchOutput = z.object({
  topic: z.string(),
  keyTerms: z.array(z.object({ term: z.string(), count: z.number().int() })),
  topSentences: z.array(z.object({ sentence: z.string(), score: z.number(), sourceIndex: z.number().int() })),
  sources: z.array(
    z.object({
      title: z.string(),
      url: z.string().optional(),
      wordCount: z.number().int(),
      summary: z.string(),
    }),
  ),
  stats: z.object({ sourceCount: z.number().int(), wordCount: z.number().int(), sentenceCount: z.number().int() }),
});

const contactSchema = z
  .object({
    firstName: text(100),
    lastName: text(100).optional(),
    email: z.string().trim().email().max(320),
    company: text(200).optional(),
    title: text(200).optional(),
  })
  .catchall(z.union([z.string().max(2000), z.number(), z.boolean()]));

const outreachInput = z.object({
  channel: z.enum(["email", "linkedin"]).default("email"),
  /** Optional subject line template (email only); same {{variable}} syntax as the body. */
  subject: text(300).optional(),
  /** Message body with {{variable}} placeholders, e.g. "Hi {{firstName}}". */
  template: text(10_000),
  contact: contactSchema,
  sender: z.object({ name: text(100), company: text(200).optional() }).optional(),
});

const outreachOutput = z.object({
  channel: z.enum(["email", "linkedin"]),
  to: z.string(),
  subject: z.string().optional(),
  body: z.string(),
  variablesUsed: z.array(z.string()),
  characterCount: z.number().int(),
});

const enrichmentInput = z.object({
  record: z
    .object({
      name: z.string().max(300).optional(),
      email: z.string().max(320).optional(),
      company: z.string().max(300).optional(),
      website: z.string().max(2000).optional(),
      country: z.string().max(100).optional(),
      phone: z.string().max(50).optional(),
      title: z.string().max(300).optional(),
    })
    .catchall(z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]))
    .refine((r) => Object.keys(r).length > 0, "record must have at least one field"),
});

const enrichmentOutput = z.object({
  record: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  domain: z.string().nullable(),
  changes: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
  warnings: z.array(z.string()),
});

export const jobTypes = {
  RESEARCH: {
    type: "RESEARCH",
    description: "Turns supplied source texts into a brief: key terms, top sentences, per-source summaries.",
    input: researchInput,
    output: researchOutput,
    example: {
      topic: "Job queues",
      sources: [
        {
          title: "Queues",
          text: "A job queue stores work to be done later. Workers take jobs from the queue and run them. Durable queues keep jobs when a process crashes.",
        },
      ],
    },
    attempts: 3,
    backoffMs: 1000,
    timeoutMs: 60_000,
  },
  OUTREACH: {
    type: "OUTREACH",
    description: "Renders a personalised message from a {{variable}} template and a contact.",
    input: outreachInput,
    output: outreachOutput,
    example: {
      channel: "email",
      subject: "Quick question, {{firstName}}",
      template: "Hi {{firstName}},\n\nI saw that {{company}} is hiring. Could we talk this week?",
      contact: { firstName: "ada", email: "ada@example.com", company: "Analytical Engines" },
    },
    attempts: 3,
    backoffMs: 1000,
    timeoutMs: 30_000,
  },
  ENRICHMENT: {
    type: "ENRICHMENT",
    description: "Normalises a contact/company record: domain from email, name casing, country codes, dedup.",
    input: enrichmentInput,
    output: enrichmentOutput,
    example: {
      record: { name: "  grace HOPPER ", email: "Grace@Navy.MIL", country: "united states", phone: "+1 (555) 010-9999" },
    },
    attempts: 3,
    backoffMs: 1000,
    timeoutMs: 30_000,
  },
} as const satisfies { [T in AgentJobType]: JobDefinition & { type: T } };

export type JobTypes = typeof jobTypes;
export type JobInput<T extends AgentJobType> = z.output<JobTypes[T]["input"]>;
export type JobOutput<T extends AgentJobType> = z.output<JobTypes[T]["output"]>;

/** What a worker handler for type T looks like. */
export type JobHandler<T extends AgentJobType> = (input: JobInput<T>, ctx: HandlerContext) => Promise<JobOutput<T>>;
export type JobHandlers = { [T in AgentJobType]: JobHandler<T> };

export const jobTypeNames = Object.keys(jobTypes) as AgentJobType[];

export function isJobType(value: unknown): value is AgentJobType {
  return typeof value === "string" && Object.hasOwn(jobTypes, value);
}
