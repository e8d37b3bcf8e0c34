import type { JobStatus, JobType } from "./job-status";

export const jobsPath = "/dashboard/agents/jobs";

export type JobFilters = { status: JobStatus | null; type: JobType | null };

/** The dashboard URL for a filter combination and page; omitted values are left out of the query. */
export function jobsUrl(filters: Partial<JobFilters>, cursor?: string | null): string {
  const params = new URLSearchParams();
  if (filters.status) params.set("status", filters.status);
  if (filters.type) params.set("type", filters.type);
  if (cursor) params.set("cursor", cursor);
  const query = params.toString();
  return query ? `${jobsPath}?${query}` : jobsPath;
}

export function jobUrl(id: string): string {
  return `${jobsPath}/${encodeURIComponent(id)}`;
}
