import { PermanentJobError } from "../../src/lib/agents/handler-context.ts";
import type { JobHandler, JobInput } from "../../src/lib/agents/job-types.ts";
import { formatPersonName } from "./enrichment.ts";

/** LinkedIn refuses connection notes longer than this. */
const LINKEDIN_MAX_CHARACTERS = 300;

/**
 * Longest text a template may render to. Without a limit, a 10,000-character template repeating a
 * 2,000-character variable would expand into 4 million characters, output size growing with the
 * product of two input sizes. Checked before rendering, so refusing costs time linear in the input.
 */
const MAX_RENDERED_CHARACTERS = 100_000;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export const outreachHandler: JobHandler<"OUTREACH"> = async (input, ctx) => {
  const { channel, contact } = input;
  if (input.subject !== undefined && channel !== "email") {
    throw new PermanentJobError(`A subject is only supported on the email channel, not ${channel}`);
  }
  const templates = input.subject === undefined ? [input.template] : [input.subject, input.template];
  for (const template of templates) assertWellFormed(template);

  const variables = collectVariables(input);
  const variablesUsed = [...new Set(templates.flatMap(placeholderNames))];
  const missing = variablesUsed.filter((name) => !variables.has(name));
  if (missing.length) throw new PermanentJobError(`Missing template variables: ${missing.join(", ")}`);
  for (const [part, template] of Object.entries({ subject: input.subject, message: input.template })) {
    const length = template === undefined ? 0 : renderedLength(template, variables);
    if (length > MAX_RENDERED_CHARACTERS) {
      throw new PermanentJobError(
        `The ${part} would render to ${length} characters; the limit is ${MAX_RENDERED_CHARACTERS}`,
      );
    }
  }
  void ctx.progress(30);
  ctx.signal.throwIfAborted();

  const body = normaliseBody(render(input.template, variables));
  const subject = input.subject === undefined ? undefined : collapseWhitespace(render(input.subject, variables));
  const characterCount = [...body].length;
  if (channel === "linkedin" && characterCount > LINKEDIN_MAX_CHARACTERS) {
    throw new PermanentJobError(
      `LinkedIn messages are limited to ${LINKEDIN_MAX_CHARACTERS} characters; this one has ${characterCount}`,
    );
  }
  void ctx.progress(80);
  ctx.signal.throwIfAborted();

  const to = contact.email.toLowerCase();
  void ctx.log(
    "info",
    `Rendered ${channel} message for ${to}: ${characterCount} characters, ` +
      `variables ${variablesUsed.length ? variablesUsed.join(", ") : "none"}`,
  );
  return { channel, to, ...(subject === undefined ? {} : { subject }), body, variablesUsed, characterCount };
};

/** Catches "{{first name}}" or a lone "{{", which would otherwise reach the recipient verbatim. */
function assertWellFormed(template: string): void {
  const leftover = template.replace(PLACEHOLDER, "").match(/\{\{[^{}]*\}\}|\{\{|\}\}/);
  if (leftover) throw new PermanentJobError(`Malformed template placeholder: ${leftover[0]}`);
}

function placeholderNames(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1]!);
}

/** Contact fields, plus senderName/senderCompany; blank values count as missing. */
function collectVariables({ contact, sender }: JobInput<"OUTREACH">): Map<string, string> {
  const variables = new Map<string, string>();
  for (const [name, value] of Object.entries(contact)) {
    if (value === undefined) continue;
    const text = collapseWhitespace(String(value));
    if (!text) continue;
    variables.set(name, name === "firstName" || name === "lastName" ? formatPersonName(text) : text);
  }
  if (sender) {
    variables.set("senderName", collapseWhitespace(sender.name));
    if (sender.company) variables.set("senderCompany", collapseWhitespace(sender.company));
  }
  return variables;
}

function render(template: string, variables: Map<string, string>): string {
  // One pass, so a value that itself contains "{{x}}" is not expanded again.
  return template.replace(PLACEHOLDER, (_, name: string) => variables.get(name) ?? "");
}

/** The length render() would return, without building the string. */
function renderedLength(template: string, variables: Map<string, string>): number {
  let length = template.length;
  for (const match of template.matchAll(PLACEHOLDER)) {
    length += (variables.get(match[1]!)?.length ?? 0) - match[0].length;
  }
  return length;
}

function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Keeps line breaks (at most one blank line in a row) but collapses spaces within lines. */
function normaliseBody(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.replace(/[^\S\n]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
