"use client";

import Link from "next/link";
import { useId, useState, type FormEvent } from "react";
import type { JobDetail } from "@/lib/agents/state-manager";
import { api } from "@/trpc/react";
import { formatDuration, prettyJson, shortId } from "./format";
import type { JobType, JobTypeInfo } from "./job-status";

type FieldErrors = Record<string, string[]>;

function exampleText(info: JobTypeInfo | undefined): string {
  return info ? prettyJson(info.example) : "{}";
}

/** Reads `fieldErrors` from a tRPC error's data, whatever else the error formatter adds. */
function fieldErrorsOf(error: unknown): FieldErrors {
  const data = (error as { data?: { fieldErrors?: unknown } } | null)?.data;
  const raw = data?.fieldErrors;
  if (!raw || typeof raw !== "object") return {};
  const out: FieldErrors = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (Array.isArray(value)) out[key] = value.map(String);
  }
  return out;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  if (!text.trim()) return { ok: false, message: "Enter the job's input as JSON, e.g. {}" };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

/**
 * Create a job: pick a type, edit its JSON input (prefilled with the type's example), submit.
 * Bad JSON never leaves the browser; the server's field errors are listed under the field they
 * concern, and nothing is created in either case.
 */
export function CreateJobForm({ types, onCreated }: { types: JobTypeInfo[]; onCreated?: (job: JobDetail) => void }) {
  const ids = useId();
  const [type, setType] = useState<JobType | "">(types[0]?.type ?? "");
  const [text, setText] = useState(() => exampleText(types[0]));
  const [idempotencyKey, setIdempotencyKey] = useState("");
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [created, setCreated] = useState<JobDetail | null>(null);

  const create = api.job.create.useMutation({
    onSuccess: (job) => {
      setCreated(job);
      onCreated?.(job);
    },
  });

  const info = types.find((t) => t.type === type);
  const fieldErrors = fieldErrorsOf(create.error);
  const inputErrors = Object.entries(fieldErrors).filter(([key]) => key === "input" || key.startsWith("input."));
  const typeErrors = fieldErrors.type ?? [];
  const keyErrors = fieldErrors.idempotencyKey ?? [];
  const otherErrors = Object.entries(fieldErrors).filter(
    ([key]) => !(key === "input" || key.startsWith("input.") || key === "type" || key === "idempotencyKey"),
  );
  const generalError = create.error && !Object.keys(fieldErrors).length ? create.error.message : null;
  const inputInvalid = Boolean(jsonError) || inputErrors.length > 0;

  function changeType(next: JobType) {
    // Swap in the new type's example unless the user has written something of their own.
    if (text.trim() === "" || text === exampleText(info)) setText(exampleText(types.find((t) => t.type === next)));
    setType(next);
    create.reset();
    setJsonError(null);
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setCreated(null);
    create.reset();
    const parsed = parseJson(text);
    if (!parsed.ok) {
      setJsonError(parsed.message);
      document.getElementById(`${ids}-input`)?.focus();
      return;
    }
    setJsonError(null);
    const key = idempotencyKey.trim();
    create.mutate({ type: type as JobType, input: parsed.value, ...(key ? { idempotencyKey: key } : {}) });
  }

  return (
    <form
      className="card create-form"
      onSubmit={submit}
      noValidate
      aria-labelledby={`${ids}-title`}
      data-testid="create-job-form"
    >
      <div className="card-header">
        <h2 id={`${ids}-title`} className="card-title">
          New job
        </h2>
      </div>

      <div className="field">
        <label htmlFor={`${ids}-type`}>Job type</label>
        <select
          id={`${ids}-type`}
          name="type"
          value={type}
          onChange={(e) => changeType(e.target.value as JobType)}
          aria-invalid={typeErrors.length > 0 || undefined}
          aria-describedby={`${ids}-type-help`}
        >
          {types.map((t) => (
            <option key={t.type} value={t.type}>
              {t.type.charAt(0) + t.type.slice(1).toLowerCase()}
            </option>
          ))}
        </select>
        <p id={`${ids}-type-help`} className="help">
          {info ? (
            <>
              {info.description}{" "}
              <span className="muted">
                Up to {info.attempts} attempt{info.attempts === 1 ? "" : "s"}, {formatDuration(info.timeoutMs)} timeout.
              </span>
            </>
          ) : null}
        </p>
        <FieldErrorList errors={typeErrors.map((m) => ["type", [m]] as [string, string[]])} />
      </div>

      <div className="field">
        <div className="field-label-row">
          <label htmlFor={`${ids}-input`}>Input (JSON)</label>
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setText(exampleText(info));
              setJsonError(null);
              create.reset();
            }}
          >
            Reset to example
          </button>
        </div>
        <textarea
          id={`${ids}-input`}
          name="input"
          className="code-input"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            if (jsonError) setJsonError(null);
          }}
          spellCheck={false}
          autoCapitalize="off"
          autoCorrect="off"
          rows={12}
          aria-invalid={inputInvalid || undefined}
          aria-describedby={`${ids}-input-errors`}
        />
        <div id={`${ids}-input-errors`} aria-live="polite">
          {jsonError ? (
            <p className="field-error" data-testid="json-error">
              Invalid JSON: {jsonError}
            </p>
          ) : null}
          <FieldErrorList errors={inputErrors} testId="input-field-errors" />
        </div>
      </div>

      <div className="field">
        <label htmlFor={`${ids}-key`}>
          Idempotency key <span className="muted">(optional)</span>
        </label>
        <input
          id={`${ids}-key`}
          name="idempotencyKey"
          type="text"
          value={idempotencyKey}
          onChange={(e) => setIdempotencyKey(e.target.value)}
          placeholder="e.g. order-1234"
          autoComplete="off"
          aria-invalid={keyErrors.length > 0 || undefined}
          aria-describedby={`${ids}-key-help`}
        />
        <p id={`${ids}-key-help`} className="help">
          Submitting the same key again returns the existing job instead of creating a new one.
        </p>
        <FieldErrorList errors={keyErrors.map((m) => ["idempotencyKey", [m]] as [string, string[]])} />
      </div>

      <FieldErrorList errors={otherErrors} />
      <div aria-live="polite">
        {generalError ? (
          <p className="form-error" role="alert">
            {generalError}
          </p>
        ) : null}
        {created ? (
          <p className="form-success" data-testid="create-success">
            Created job{" "}
            <Link href={`/dashboard/agents/jobs/${created.id}`} className="mono">
              {shortId(created.id)}
            </Link>
            .
          </p>
        ) : null}
      </div>

      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={create.isPending || !type}>
          {create.isPending ? "Creating…" : "Create job"}
        </button>
      </div>
    </form>
  );
}

function FieldErrorList({ errors, testId }: { errors: [string, string[]][]; testId?: string }) {
  if (!errors.length) return null;
  return (
    <ul className="field-errors" data-testid={testId}>
      {errors.flatMap(([field, messages]) =>
        messages.map((message, i) => (
          <li key={`${field}-${i}`}>
            <code className="field-path">{field}</code> {message}
          </li>
        )),
      )}
    </ul>
  );
}
