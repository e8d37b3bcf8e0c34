/**
 * Checks for values PostgreSQL's jsonb cannot store, so bad input is refused with a clear error
 * before anything is written instead of failing inside the database.
 */

export type UnstorableText = { path: string; problem: string };

function textProblem(text: string): string | null {
  if (text.includes("\u0000")) return "contains a NUL character (\\u0000), which cannot be stored";
  if (!text.isWellFormed()) return "contains an unpaired UTF-16 surrogate, which cannot be stored";
  return null;
}

/**
 * The first string or key (path "a.b[2]", "" for the root) that PostgreSQL's jsonb cannot store:
 * one holding U+0000 or an unpaired surrogate. Null when there is none.
 */
export function findUnstorableText(value: unknown, path = ""): UnstorableText | null {
  if (typeof value === "string") {
    const problem = textProblem(value);
    return problem ? { path, problem } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      const problem = textProblem(key);
      if (problem) return { path: childPath, problem };
      const found = findUnstorableText(child, childPath);
      if (found) return found;
    }
  }
  return null;
}

/** Deeper JSON than this is refused: no job input needs it, and deep trees exhaust the stack. */
export const MAX_JSON_DEPTH = 64;

/**
 * Size in bytes of the value's JSON encoding, but stops counting (returning Infinity) as soon as
 * it passes `limit`, so a small request whose shared references expand into a huge tree cannot
 * make the check itself slow. Throws TypeError for values JSON cannot encode and RangeError past
 * MAX_JSON_DEPTH.
 */
export function jsonByteLengthUpTo(value: unknown, limit: number): number {
  let total = 0;
  const stack: { value: unknown; depth: number; inArray: boolean }[] = [{ value, depth: 0, inArray: false }];
  while (stack.length) {
    const item = stack.pop()!;
    let v = item.value;
    if (v !== null && typeof v === "object" && typeof (v as { toJSON?: unknown }).toJSON === "function") {
      v = (v as { toJSON: () => unknown }).toJSON();
    }
    if (typeof v === "bigint") throw new TypeError("BigInt is not JSON");
    if (v === undefined || typeof v === "function" || typeof v === "symbol") {
      if (item.depth === 0) throw new TypeError("value is not JSON");
      total += item.inArray ? 4 : 0; // null in arrays; dropped (with its key, counted loosely) in objects
    } else if (typeof v === "string") {
      total += Buffer.byteLength(JSON.stringify(v), "utf8");
    } else if (v === null || typeof v !== "object") {
      total += String(JSON.stringify(v)).length;
    } else {
      if (item.depth >= MAX_JSON_DEPTH) throw new RangeError(`nested deeper than ${MAX_JSON_DEPTH} levels`);
      const isArray = Array.isArray(v);
      const entries = isArray ? (v as unknown[]).map((c) => ["", c] as const) : Object.entries(v);
      total += 2 + Math.max(0, entries.length - 1);
      for (const [key, child] of entries) {
        if (!isArray) total += Buffer.byteLength(JSON.stringify(key), "utf8") + 1;
        stack.push({ value: child, depth: item.depth + 1, inArray: isArray });
      }
    }
    if (total > limit) return Infinity;
  }
  return total;
}

/**
 * Turns anything a handler passes as log data into a plain JSON value that jsonb accepts:
 * errors become {name, message, stack}, bigint a string, cycles "[Circular]", U+0000 U+FFFD.
 */
export function toStorableJson(value: unknown): unknown {
  const seen = new WeakSet<object>();
  const visit = (v: unknown): unknown => {
    if (typeof v === "string") return v.replaceAll("\u0000", "\uFFFD");
    if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
    if (typeof v === "bigint") return v.toString();
    if (v === null || typeof v === "boolean") return v;
    if (v === undefined || typeof v === "function" || typeof v === "symbol") return null;
    if (v instanceof Date) return v.toISOString();
    if (v instanceof Error) return { name: v.name, message: visit(v.message), stack: visit(v.stack ?? null) };
    if (typeof v === "object") {
      if (seen.has(v)) return "[Circular]";
      seen.add(v);
      const out = Array.isArray(v)
        ? v.map(visit)
        : Object.fromEntries(Object.entries(v).map(([k, c]) => [k.replaceAll("\u0000", "\uFFFD"), visit(c)]));
      seen.delete(v);
      return out;
    }
    return String(v);
  };
  return visit(value);
}
