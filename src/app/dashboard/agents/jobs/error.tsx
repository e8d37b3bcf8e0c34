"use client";

import { useEffect } from "react";
import { ErrorBanner } from "@/components/error-banner";

/** Anything the pages' own error handling did not catch still ends in a banner, not a blank page. */
export default function JobsError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <div className="dashboard">
      <div className="page-header">
        <div>
          <h1 className="page-title">Agent jobs</h1>
        </div>
      </div>
      <ErrorBanner
        title="The jobs could not be shown"
        action={
          <button type="button" className="button button-secondary" onClick={reset}>
            Try again
          </button>
        }
      >
        The server could not load this page, possibly because the database is unavailable.
        {error.digest ? ` Reference: ${error.digest}.` : ""}
      </ErrorBanner>
    </div>
  );
}
