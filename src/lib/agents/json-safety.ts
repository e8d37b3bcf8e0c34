/**
 * Checks for values PostgreSQL's jsonb cannot store, so bad input is refused with a clear error
 * before anything is written instead of failing inside the database.
 */

/** Path ("a.b[2]", "" for the root) of the first string or key holding U+0000, or null. */
export function findNulCharacter(value: unknown, path = ""): string | null {
  if (typeof value === "string") return value.includes("\u0000") ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNulCharacter(value[i], `${path}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (key.includes("\u0000")) return childPath;
      const found = findNulCharacter(child, childPath);
      if (found !== null) return found;
    }
  }
  return null;
}

/** Size in bytes of the value's JSON encoding; throws TypeError for values JSON cannot encode. */
export function jsonByteLength(value: unknown): number {
  const encoded = JSON.stringify(value);
  if (encoded === undefined) throw new TypeError("value is not JSON");
  return Buffer.byteLength(encoded, "utf8");
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
