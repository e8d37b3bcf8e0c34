import { domainToASCII } from "node:url";
import { PermanentJobError } from "../../src/lib/agents/handler-context.ts";
import type { JobHandler, JobOutput } from "../../src/lib/agents/job-types.ts";

type FieldValue = string | number | boolean | null;
type Change = JobOutput<"ENRICHMENT">["changes"][number];

/** An address at one of these says nothing about the person's company. */
const FREE_MAIL_DOMAINS = new Set([
  "gmail.com",
  "googlemail.com",
  "yahoo.com",
  "yahoo.co.uk",
  "yahoo.fr",
  "ymail.com",
  "outlook.com",
  "hotmail.com",
  "hotmail.co.uk",
  "live.com",
  "msn.com",
  "aol.com",
  "icloud.com",
  "me.com",
  "mac.com",
  "proton.me",
  "protonmail.com",
  "gmx.com",
  "gmx.de",
  "gmx.net",
  "web.de",
  "mail.com",
  "mail.ru",
  "yandex.ru",
  "yandex.com",
  "zoho.com",
  "fastmail.com",
  "hey.com",
  "qq.com",
  "163.com",
]);

/** ISO 3166-1 alpha-2 code, then alpha-3 and the names people actually type. */
const COUNTRIES: readonly (readonly [code: string, ...aliases: string[]])[] = [
  ["US", "USA", "United States", "United States of America", "America"],
  ["GB", "GBR", "UK", "United Kingdom", "Great Britain", "Britain", "England", "Scotland", "Wales", "Northern Ireland"],
  ["DE", "DEU", "Germany", "Deutschland"],
  ["FR", "FRA", "France"],
  ["ES", "ESP", "Spain", "España"],
  ["IT", "ITA", "Italy", "Italia"],
  ["NL", "NLD", "Netherlands", "Holland", "Nederland"],
  ["BE", "BEL", "Belgium", "België", "Belgique"],
  ["CH", "CHE", "Switzerland", "Schweiz", "Suisse", "Svizzera"],
  ["AT", "AUT", "Austria", "Österreich"],
  ["SE", "SWE", "Sweden", "Sverige"],
  ["NO", "NOR", "Norway", "Norge"],
  ["DK", "DNK", "Denmark", "Danmark"],
  ["FI", "FIN", "Finland", "Suomi"],
  ["IE", "IRL", "Ireland", "Republic of Ireland", "Éire"],
  ["PT", "PRT", "Portugal"],
  ["PL", "POL", "Poland", "Polska"],
  ["CZ", "CZE", "Czechia", "Czech Republic", "Česko"],
  ["GR", "GRC", "Greece", "Hellas"],
  ["HU", "HUN", "Hungary", "Magyarország"],
  ["RO", "ROU", "Romania"],
  ["UA", "UKR", "Ukraine"],
  ["RU", "RUS", "Russia", "Russian Federation"],
  ["TR", "TUR", "Turkey", "Türkiye"],
  ["IL", "ISR", "Israel"],
  ["AE", "ARE", "United Arab Emirates", "UAE"],
  ["SA", "SAU", "Saudi Arabia", "KSA"],
  ["EG", "EGY", "Egypt"],
  ["ZA", "ZAF", "South Africa", "RSA"],
  ["NG", "NGA", "Nigeria"],
  ["KE", "KEN", "Kenya"],
  ["IN", "IND", "India", "Bharat"],
  ["PK", "PAK", "Pakistan"],
  ["BD", "BGD", "Bangladesh"],
  ["CN", "CHN", "China", "PRC", "People's Republic of China"],
  ["JP", "JPN", "Japan", "Nippon"],
  ["KR", "KOR", "South Korea", "Korea", "Republic of Korea", "Korea, Republic of"],
  ["KP", "PRK", "North Korea"],
  ["TW", "TWN", "Taiwan"],
  ["HK", "HKG", "Hong Kong"],
  ["SG", "SGP", "Singapore"],
  ["MY", "MYS", "Malaysia"],
  ["ID", "IDN", "Indonesia"],
  ["TH", "THA", "Thailand"],
  ["VN", "VNM", "Vietnam", "Viet Nam"],
  ["PH", "PHL", "Philippines"],
  ["AU", "AUS", "Australia"],
  ["NZ", "NZL", "New Zealand", "Aotearoa"],
  ["CA", "CAN", "Canada"],
  ["MX", "MEX", "Mexico", "México"],
  ["BR", "BRA", "Brazil", "Brasil"],
  ["AR", "ARG", "Argentina"],
  ["CL", "CHL", "Chile"],
  ["CO", "COL", "Colombia"],
  ["PE", "PER", "Peru", "Perú"],
];

const COUNTRY_CODES = new Map(
  COUNTRIES.flatMap(([code, ...aliases]) => [code, ...aliases].map((alias) => [countryKey(alias), code] as const)),
);

const PERSON_NAME_FIELDS = new Set("name fullName firstName lastName full_name first_name last_name".split(" "));

/** Known fields win over extra ones when two hold the same value. */
const FIELD_PRIORITY = ["name", "email", "company", "website", "country", "phone", "title"];

const NAME_PARTICLES = new Set("da das de del della der di dos du la le van von y".split(" "));
const ROMAN_SUFFIXES = new Set(["ii", "iii", "iv"]);

const EMAIL_LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TOP_LEVEL_DOMAIN = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/**
 * Warnings logged one entry each; beyond this one entry counts the rest (the output keeps them all).
 * A record of thousands of bad fields would otherwise append thousands of entries, and as each
 * append rewrites the job's whole log array in the database, that costs quadratic time there.
 */
const MAX_WARNING_LOGS = 20;

type FieldResult = { value: string; warning?: string; invalid?: boolean };

export const enrichmentHandler: JobHandler<"ENRICHMENT"> = async ({ record: input }, ctx) => {
  const record: Record<string, FieldValue> = {};
  const warnings: string[] = [];
  const invalid = new Set<string>();
  const emptied: string[] = [];

  for (const [field, original] of Object.entries(input)) {
    if (original === undefined) continue;
    if (typeof original !== "string") {
      record[field] = original;
      continue;
    }
    const collapsed = collapseWhitespace(original);
    if (!collapsed) {
      emptied.push(field);
      continue;
    }
    const result = normaliseField(field, collapsed);
    record[field] = result.value;
    if (result.warning) warnings.push(result.warning);
    if (result.invalid) invalid.add(field);
  }
  void ctx.progress(40);
  ctx.signal.throwIfAborted();

  const duplicates = findDuplicateFields(record);
  for (const field of duplicates.keys()) delete record[field];
  void ctx.progress(60);
  ctx.signal.throwIfAborted();

  const domain = resolveDomain(record, invalid, warnings);
  void ctx.progress(80);

  const usable = Object.entries(record).filter(([field, value]) => value !== null && !invalid.has(field));
  if (usable.length === 0) {
    const reasons = [
      emptied.length ? `empty: ${emptied.join(", ")}` : "",
      invalid.size ? `invalid: ${[...invalid].join(", ")}` : "",
    ].filter(Boolean);
    throw new PermanentJobError(
      `Record has nothing usable after normalisation${reasons.length ? ` (${reasons.join("; ")})` : ""}`,
    );
  }

  // One entry per field, original to final; `to: null` means the field was removed.
  const changes: Change[] = [];
  for (const [field, original] of Object.entries(input)) {
    if (original === undefined) continue;
    const final = Object.hasOwn(record, field) ? record[field] : null;
    if (final !== original) changes.push({ field, from: original, to: final });
  }

  for (const warning of warnings.slice(0, MAX_WARNING_LOGS)) void ctx.log("warn", warning);
  if (warnings.length > MAX_WARNING_LOGS) {
    void ctx.log(
      "warn",
      `${count(warnings.length - MAX_WARNING_LOGS, "more warning")} not logged; all ${warnings.length} are in the output`,
    );
  }
  void ctx.log(
    "info",
    `Normalised ${count(Object.keys(input).length, "field")}: ${changes.length} changed, ` +
      `${emptied.length + duplicates.size} removed, ${count(warnings.length, "warning")}; domain ${domain ?? "unknown"}`,
    { duplicates: Object.fromEntries(duplicates), emptied },
  );
  return { record, domain, changes, warnings };
};

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function normaliseField(field: string, value: string): FieldResult {
  if (PERSON_NAME_FIELDS.has(field)) return { value: formatPersonName(value) };
  if (/email$/i.test(field)) return normaliseEmail(field, value);
  if (/(?:phone|mobile)$/i.test(field)) return normalisePhone(field, value);
  if (field === "country") return normaliseCountry(value);
  if (field === "website" && domainFromWebsite(value) === null) {
    return { value, warning: `website "${value}" has no usable domain`, invalid: true };
  }
  return { value };
}

function collapseWhitespace(value: string): string {
  return value
    .replace(/[\u200B-\u200D\uFEFF]/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * Title-cases the words of a person's name that are all lower or all upper case; mixed-case
 * words (McDonald, DeVito) are left alone because that casing is usually deliberate.
 * "  grace HOPPER " -> "Grace Hopper", "o'brien" -> "O'Brien", "LUDWIG VAN BEETHOVEN" -> "Ludwig van Beethoven".
 */
export function formatPersonName(name: string): string {
  const words = collapseWhitespace(name).split(" ");
  return words.map((word, index) => formatNameWord(word, index, words.length)).join(" ");
}

function formatNameWord(word: string, index: number, count: number): string {
  if (word !== word.toLowerCase() && word !== word.toUpperCase()) return word;
  const lower = word.toLowerCase();
  // A particle only stays lower case between other names: "Van Morrison", "Ludwig van Beethoven".
  if (index > 0 && index < count - 1 && NAME_PARTICLES.has(lower)) return lower;
  if (index > 0 && index === count - 1 && ROMAN_SUFFIXES.has(lower)) return word.toUpperCase();
  return lower
    .replace(/(^|[-.])(\p{L})/gu, (_, separator: string, letter: string) => separator + letter.toUpperCase())
    .replace(
      /(^|-)(\p{Lu})(['’])(\p{Ll})/gu,
      (_, start: string, initial: string, mark: string, letter: string) =>
        start + initial + mark + letter.toUpperCase(),
    )
    .replace(/(^|-)Mc(\p{Ll})/gu, (_, start: string, letter: string) => `${start}Mc${letter.toUpperCase()}`);
}

function normaliseEmail(field: string, value: string): FieldResult {
  const email = value
    .replace(/^mailto:/i, "")
    .replace(/^<(.*)>$/, "$1")
    .replace(/\s+/g, "")
    .toLowerCase();
  if (isEmailAddress(email)) return { value: email };
  return { value, warning: `${field} "${value}" is not a valid email address`, invalid: true };
}

function isEmailAddress(email: string): boolean {
  const at = email.lastIndexOf("@");
  const local = email.slice(0, at);
  return at > 0 && local.length <= 64 && EMAIL_LOCAL_PART.test(local) && toAsciiHost(email.slice(at + 1)) !== null;
}

/** The host in lower-case ASCII (punycode), or null when it is not a public DNS name. */
function toAsciiHost(host: string): string | null {
  const ascii = domainToASCII(host.replace(/\.$/, ""));
  const labels = ascii.split(".");
  const valid =
    ascii.length <= 253 &&
    labels.length >= 2 &&
    labels.every((label) => HOST_LABEL.test(label)) &&
    TOP_LEVEL_DOMAIN.test(labels.at(-1) ?? "");
  return valid ? ascii : null;
}

/** "https://www.Acme.com/about?x=1" -> "acme.com". */
function domainFromWebsite(website: string): string | null {
  const url = /^[a-z][a-z\d+.-]*:\/\//i.test(website) ? website : `http://${website}`;
  if (!URL.canParse(url)) return null;
  return toAsciiHost(new URL(url).hostname.replace(/^www\./, ""));
}

function normalisePhone(field: string, value: string): FieldResult {
  if (/[^\d\s+().\/-]/.test(value)) {
    return { value, warning: `${field} "${value}" contains characters other than digits; left as is` };
  }
  if (!/^(?:\+|00)/.test(value)) {
    return { value, warning: `${field} "${value}" has no country code (+ or 00); left as is` };
  }
  // "(0)" is the national trunk prefix written next to the country code: "+44 (0)20" dials "+4420".
  const digits = value.replace(/^00/, "").replace(/\(0\)/g, "").replace(/\D/g, "");
  if (!/^[1-9]\d{7,14}$/.test(digits)) {
    return { value, warning: `${field} "${value}" is not a valid international number`, invalid: true };
  }
  return { value: `+${digits}` };
}

function normaliseCountry(value: string): FieldResult {
  const key = countryKey(value);
  const code = COUNTRY_CODES.get(key) ?? COUNTRY_CODES.get(key.replaceAll(" ", ""));
  return code ? { value: code } : { value, warning: `country "${value}" is not recognised; left as is` };
}

/** "U.S.A." -> "usa", "The Netherlands" -> "netherlands", "España" -> "espana". */
function countryKey(value: string): string {
  return value
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/’/g, "'")
    .replace(/\./g, "")
    .replace(/[,()]/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^the /, "");
}

/** Fields whose string value repeats a higher-priority field's, mapped to the field they repeat. */
function findDuplicateFields(record: Record<string, FieldValue>): Map<string, string> {
  const rank = (field: string) => {
    const index = FIELD_PRIORITY.indexOf(field);
    return index === -1 ? FIELD_PRIORITY.length : index;
  };
  const seen = new Map<string, string>();
  const duplicates = new Map<string, string>();
  for (const field of Object.keys(record).sort((a, b) => rank(a) - rank(b))) {
    const value = record[field];
    if (typeof value !== "string") continue;
    const key = value.toLowerCase();
    const first = seen.get(key);
    if (first === undefined) seen.set(key, field);
    else duplicates.set(field, first);
  }
  return duplicates;
}

/**
 * The company's domain: the email's unless it is free-mail, otherwise the website's. When both
 * name the same site the shorter wins: "acme.com" over the mail host "eu.acme.com".
 */
function resolveDomain(record: Record<string, FieldValue>, invalid: Set<string>, warnings: string[]): string | null {
  const email = typeof record.email === "string" && !invalid.has("email") ? record.email : null;
  let fromEmail = email === null ? null : toAsciiHost(email.slice(email.lastIndexOf("@") + 1));
  if (fromEmail !== null && FREE_MAIL_DOMAINS.has(fromEmail)) {
    warnings.push(`email domain ${fromEmail} is a free-mail provider, not a company domain`);
    fromEmail = null;
  }
  const website = record.website;
  const fromWebsite = typeof website === "string" && !invalid.has("website") ? domainFromWebsite(website) : null;
  if (fromEmail === null || fromWebsite === null) return fromEmail ?? fromWebsite;
  if (isSameSite(fromEmail, fromWebsite)) return fromWebsite.length < fromEmail.length ? fromWebsite : fromEmail;
  warnings.push(`email domain ${fromEmail} differs from website domain ${fromWebsite}; using ${fromEmail}`);
  return fromEmail;
}

function isSameSite(a: string, b: string): boolean {
  return a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);
}
