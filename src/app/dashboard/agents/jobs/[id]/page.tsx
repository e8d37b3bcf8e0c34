import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { ErrorBanner, isDatabaseUnavailable } from "@/components/error-banner";
import { shortId } from "@/components/format";
import { JobDetailView } from "@/components/job-detail-view";
import { jobUrl, jobsPath } from "@/components/jobs-url";
import { getDb } from "@/lib/db";
import { getJobChangeCursor } from "@/lib/agents/job-queries";
import { jobDetailSelect } from "@/lib/agents/state-manager";

export const dynamic = "force-dynamic";

type Params = Promise<{ id: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { id } = await params;
  return { title: `Job ${shortId(decodeURIComponent(id))} · Agent Engine` };
}

/** The job with input, output and logs, and the change-feed position its live view starts from. */
async function loadJob(id: string) {
  const db = getDb();
  const renderedAt = Date.now();
  // Feed position first, then the row: a change in between is replayed, not lost.
  const since = await getJobChangeCursor(db);
  const job = id.length <= 200 ? await db.agentJob.findUnique({ where: { id }, select: jobDetailSelect }) : null;
  return { job, since, renderedAt };
}

export default async function JobPage({ params }: { params: Params }) {
  const id = decodeURIComponent((await params).id);
  let loaded: Awaited<ReturnType<typeof loadJob>>;
  try {
    loaded = await loadJob(id);
  } catch (err) {
    console.error(`[job detail] could not load job ${id}: ${(err as Error)?.message?.trim()}`);
    const unavailable = isDatabaseUnavailable(err);
    return (
      <div className="detail">
        <a href={jobsPath} className="back-link">
          ← All jobs
        </a>
        <ErrorBanner
          title={unavailable ? "The job database is not reachable" : "This job could not be loaded"}
          action={
            <a className="button button-secondary" href={jobUrl(id)}>
              Try again
            </a>
          }
        >
          {unavailable
            ? "This job's state is kept in PostgreSQL, which cannot be read right now. Nothing is lost; try again in a moment."
            : "Something went wrong while reading this job. Try again in a moment."}
        </ErrorBanner>
      </div>
    );
  }
  if (!loaded.job) notFound();
  return <JobDetailView key={loaded.job.id} job={loaded.job} since={loaded.since} renderedAt={loaded.renderedAt} />;
}
