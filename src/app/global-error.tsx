"use client";

// Replaces the root layout when it fails itself, so it brings its own <html> and minimal styling.
export default function GlobalError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "system-ui, sans-serif", padding: "2rem", color: "#1f2328" }}>
        <div
          role="alert"
          style={{
            border: "1px solid #f1aeb5",
            background: "#fff5f5",
            borderRadius: 8,
            padding: "1rem 1.25rem",
            maxWidth: 640,
          }}
        >
          <strong>Agent Engine could not load.</strong>
          <p>{error.digest ? `Reference: ${error.digest}. ` : ""}Try again in a moment.</p>
          <button type="button" onClick={reset}>
            Try again
          </button>
        </div>
      </body>
    </html>
  );
}
