import type { JobSummary } from "@/lib/agents/state-manager";

export type JobStatus = JobSummary["status"];
export type JobType = JobSummary["type"];

/** Display order: what needs attention first. */
export const jobStatuses = ["PENDING", "RUNNING", "COMPLETED", "FAILED"] as const satisfies readonly JobStatus[];

export const statusLabels: Record<JobStatus, string> = {
  PENDING: "Pending",
  RUNNING: "Running",
  COMPLETED: "Completed",
  FAILED: "Failed",
};

export function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === "string" && (jobStatuses as readonly string[]).includes(value);
}

export function isFinished(status: JobStatus): boolean {
  return status === "COMPLETED" || status === "FAILED";
}

/** What the dashboard's create form needs to know about each job type (plain data, safe to send to the browser). */
export type JobTypeInfo = {
  type: JobType;
  description: string;
  example: unknown;
  attempts: number;
  timeoutMs: number;
};

export type JobCounts = Record<JobStatus, number>;
