"use client";

import { useEffect } from "react";
import { ErrorBanner } from "@/components/error-banner";

export default function RootError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <ErrorBanner
      title="Something went wrong"
      action={
        <button type="button" className="button button-secondary" onClick={reset}>
          Try again
        </button>
      }
    >
      This page could not be shown.{error.digest ? ` Reference: ${error.digest}.` : ""}
    </ErrorBanner>
  );
}
