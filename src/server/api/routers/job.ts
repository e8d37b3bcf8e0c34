import { tracked, type TrackedEnvelope } from "@trpc/server";
import { z } from "zod";
import { AgentJobStatus, AgentJobType } from "../../../generated/prisma/enums.ts";
import { getJob, getJobStats, listJobs, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE } from "../../../lib/agents/job-queries.ts";
import { jobTypeNames, jobTypes } from "../../../lib/agents/job-types.ts";
import {
  cancelJob,
  createJob,
  jobSummarySelect,
  retryJob,
  type JobDetail,
  type JobSummary,
} from "../../../lib/agents/state-manager.ts";
import { openJobChangeStream } from "../../../lib/events/job-change-stream.ts";
import type { JobChangeEvent, JobEventKind } from "../../../lib/events/job-events.ts";
import { publicProcedure, router, toTRPCError, type TRPCContext } from "../trpc.ts";

/** Text PostgreSQL can take as a parameter: no NUL, no unpaired UTF-16 surrogate. */
const storableText = (s: string) => !s.includes("\u0000") && s.isWellFormed();
const jobId = z.string().trim().min(1, "Required").max(200).refine(storableText, "Not a valid job id");

/** The summary columns of a row (what events carry): never input, output or logs. */
function toSummary(job: JobSummary | JobDetail): JobSummary {
  return Object.fromEntries(Object.keys(jobSummarySelect).map((k) => [k, job[k as keyof JobSummary]])) as JobSummary;
}

async function announce(ctx: TRPCContext, kind: JobEventKind, job: JobSummary | JobDetail): Promise<void> {
  await ctx.publishChange({ kind, job: toSummary(job) }).catch(() => {});
}

/**
 * Maps a stream's values, handing return() straight to the source so a consumer that stops
 * (client gone) ends the source at once; errors become TRPCErrors with the engine's mapping.
 */
function mapStream<T, U>(source: AsyncIterableIterator<T, void, unknown>, map: (value: T) => U) {
  const iterator: AsyncIterableIterator<U, void, unknown> = {
    next: async () => {
      try {
        const result = await source.next();
        return result.done ? { done: true, value: undefined } : { done: false, value: map(result.value) };
      } catch (err) {
        throw toTRPCError(err);
      }
    },
    return: async () => {
      await source.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

export const jobRouter = router({
  create: publicProcedure
    .input(
      z.object({
        type: z.string().max(100),
        input: z.unknown(),
        idempotencyKey: z
          .string()
          .min(1, "Must not be empty")
          .max(200)
          .refine(storableText, "Must not contain NUL or unpaired surrogate characters")
          .optional(),
      }),
    )
    .mutation(async ({ ctx, input }): Promise<JobDetail> => {
      const job = await createJob(input.type, input.input, {
        idempotencyKey: input.idempotencyKey,
        db: ctx.db,
        queue: ctx.queue,
      });
      await announce(ctx, "added", job);
      return job;
    }),

  list: publicProcedure
    .input(
      z
        .object({
          status: z.enum(AgentJobStatus).optional(),
          type: z.enum(AgentJobType).optional(),
          cursor: z.string().max(400).nullish(),
          limit: z.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
        })
        .optional(),
    )
    .query(({ ctx, input }) => listJobs(input ?? {}, ctx.db)),

  byId: publicProcedure.input(z.object({ id: jobId })).query(({ ctx, input }) => getJob(input.id, ctx.db)),

  stats: publicProcedure.query(({ ctx }) => getJobStats(ctx.db)),

  /** What the create form needs per type: a description and a valid example input. */
  types: publicProcedure.query(() =>
    jobTypeNames.map((type) => {
      const def = jobTypes[type];
      return {
        type,
        description: def.description,
        example: def.example as unknown,
        attempts: def.attempts,
        timeoutMs: def.timeoutMs,
      };
    }),
  ),

  cancel: publicProcedure.input(z.object({ id: jobId })).mutation(async ({ ctx, input }) => {
    const job = await cancelJob(input.id, { db: ctx.db, queue: ctx.queue });
    await announce(ctx, "changed", job);
    return job;
  }),

  retry: publicProcedure.input(z.object({ id: jobId })).mutation(async ({ ctx, input }) => {
    const job = await retryJob(input.id, { db: ctx.db, queue: ctx.queue });
    await announce(ctx, "changed", job);
    return job;
  }),

  /**
   * Live row snapshots over SSE. Each event's id is the row's `seq`; a reconnecting client sends
   * the last one as `lastEventId` (httpSubscriptionLink and EventSource do this by themselves)
   * and first receives, from the database, every row that changed after it.
   */
  onChange: publicProcedure
    .input(
      z
        .object({
          lastEventId: z
            .string()
            .regex(/^\d{1,19}$/, "Expected an event id from this feed")
            .refine((v) => BigInt(v) <= 9223372036854775807n, "Expected an event id from this feed")
            .nullish(),
          jobId: jobId.optional(),
        })
        .optional(),
    )
    .subscription(async ({ ctx, input, signal }): Promise<AsyncIterableIterator<TrackedEnvelope<JobChangeEvent>, void, unknown>> => {
      // Subscribed (and confirmed by Redis) before the client hears "connected": everything
      // published after the client sees the connection open reaches it.
      const stream = await openJobChangeStream({
        bus: ctx.bus,
        db: ctx.db,
        afterSeq: input?.lastEventId ? BigInt(input.lastEventId) : null,
        jobId: input?.jobId,
        signal,
      });
      return mapStream(stream, (event) => tracked(String(event.job.seq), event));
    }),
});
