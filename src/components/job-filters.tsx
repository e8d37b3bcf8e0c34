"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useId, useTransition } from "react";
import { isJobStatus, jobStatuses, statusLabels, type JobType, type JobTypeInfo } from "./job-status";
import { jobsUrl, type JobFilters } from "./jobs-url";

/** Status and type selects; a change navigates to the filtered URL (back/forward and sharing work). */
export function JobFiltersBar({ filters, types }: { filters: JobFilters; types: JobTypeInfo[] }) {
  const router = useRouter();
  const ids = useId();
  const [pending, startTransition] = useTransition();
  const go = (next: JobFilters) => startTransition(() => router.push(jobsUrl(next)));
  const active = filters.status !== null || filters.type !== null;

  return (
    <div className="filters" aria-busy={pending || undefined}>
      <div className="filter">
        <label htmlFor={`${ids}-status`}>Status</label>
        <select
          id={`${ids}-status`}
          value={filters.status ?? ""}
          onChange={(e) => go({ ...filters, status: isJobStatus(e.target.value) ? e.target.value : null })}
        >
          <option value="">All statuses</option>
          {jobStatuses.map((s) => (
            <option key={s} value={s}>
              {statusLabels[s]}
            </option>
          ))}
        </select>
      </div>
      <div className="filter">
        <label htmlFor={`${ids}-type`}>Type</label>
        <select
          id={`${ids}-type`}
          value={filters.type ?? ""}
          onChange={(e) => go({ ...filters, type: (e.target.value || null) as JobType | null })}
        >
          <option value="">All types</option>
          {types.map((t) => (
            <option key={t.type} value={t.type}>
              {t.type.charAt(0) + t.type.slice(1).toLowerCase()}
            </option>
          ))}
        </select>
      </div>
      {active ? (
        <Link href={jobsUrl({})} className="link-button filter-clear">
          Clear filters
        </Link>
      ) : null}
    </div>
  );
}
