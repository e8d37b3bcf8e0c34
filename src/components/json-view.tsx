import { prettyJson } from "./format";

/** Pretty-printed JSON in a scrollable, labelled block; `empty` when there is no value yet. */
export function JsonView({
  value,
  label,
  empty,
  testId,
}: {
  value: unknown;
  label: string;
  empty: string;
  testId?: string;
}) {
  if (value === null || value === undefined) {
    return <p className="muted json-empty">{empty}</p>;
  }
  return (
    <pre className="json" tabIndex={0} aria-label={label} data-testid={testId}>
      <code>{prettyJson(value)}</code>
    </pre>
  );
}
