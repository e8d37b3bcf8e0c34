import { setImmediate as nextTurn } from "node:timers/promises";
import { PermanentJobError } from "../../src/lib/agents/handler-context.ts";
import type { JobHandler, JobOutput } from "../../src/lib/agents/job-types.ts";

type KeyTerm = JobOutput<"RESEARCH">["keyTerms"][number];

type Sentence = {
  text: string;
  sourceIndex: number;
  /** Order within its source. */
  position: number;
  words: string[];
  score: number;
};

const STOP_WORDS = new Set(
  `a about above across after again against all almost along already also although always am among an and
  another any anyone anything are aren't around as at be became because become been before being below
  between both but by can can't cannot could couldn't did didn't do does doesn't doing don't done down
  during each either else enough etc even ever every few for from further get gets getting got had hadn't
  has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how how's
  however i i'd i'll i'm i've if in into is isn't it it's its itself just least less let let's many may me
  might more most much must mustn't my myself neither never no nor not now of off often on once one only
  onto or other others otherwise ought our ours ourselves out over own per perhaps quite rather really
  same shall shan't she she'd she'll she's should shouldn't since so some such than that that's the their
  theirs them themselves then there there's therefore these they they'd they'll they're they've this
  those though through thus to too toward towards under unless until up upon us very via was wasn't we
  we'd we'll we're we've well were weren't what what's whatever when when's where where's whether which
  while who who's whom whose why why's will with within without won't would wouldn't yet you you'd
  you'll you're you've your yours yourself yourselves`.split(/\s+/),
);

/** Words that end in a period without ending the sentence ("Dr. Smith", "e.g. queues"). */
const ABBREVIATIONS = new Set(["mr", "mrs", "ms", "dr", "prof", "st", "vs", "e.g", "i.e", "cf", "fig", "no", "approx"]);

/** Short fragments (headings, "Yes.") would otherwise top a density ranking. */
const MIN_SCORED_WORDS = 6;

/** How much of a source is analysed between two yields to the event loop. */
const SENTENCES_PER_SLICE = 2_000;
const CHARACTERS_PER_SLICE = 50_000;

const WORD = /[\p{L}\p{M}\p{N}]+(?:['-][\p{L}\p{M}\p{N}]+)*/gu;

export const researchHandler: JobHandler<"RESEARCH"> = async (input, ctx) => {
  const { topic, maxKeyTerms, summarySentences } = input;
  void ctx.progress(5);

  // The analysis is synchronous, so it hands the event loop back (and honours a timeout or cancel)
  // before each source and every few thousand sentences within one: a long source must not stall
  // the worker's timers, cancel polls, lock renewals and other jobs.
  const pause = async () => {
    await nextTurn();
    ctx.signal.throwIfAborted();
  };
  const sources: Sentence[][] = [];
  for (const [sourceIndex, source] of input.sources.entries()) {
    await pause();
    const own: Sentence[] = [];
    let sentencesInSlice = 0;
    let charactersInSlice = 0;
    for (const text of sentencesOf(source.text)) {
      own.push({ text, sourceIndex, position: own.length, words: tokenize(text), score: 0 });
      charactersInSlice += text.length;
      if (++sentencesInSlice >= SENTENCES_PER_SLICE || charactersInSlice >= CHARACTERS_PER_SLICE) {
        await pause();
        sentencesInSlice = charactersInSlice = 0;
      }
    }
    sources.push(own);
  }
  const sentences = sources.flat();
  const wordCount = sentences.reduce((sum, sentence) => sum + sentence.words.length, 0);
  if (wordCount === 0) throw new PermanentJobError("Sources contain no words to analyse");
  void ctx.progress(50);
  await pause();

  const { counts, termOf } = countTerms(sentences.flatMap((sentence) => sentence.words));
  const keyTerms = rankKeyTerms(counts, maxKeyTerms);
  void ctx.progress(70);
  await pause();

  const topCount = keyTerms[0]?.count ?? 1;
  const weights = new Map(keyTerms.map(({ term, count }) => [term, count / topCount]));
  for (const sentence of sentences) {
    const weight = sentence.words.reduce((sum, word) => sum + (weights.get(termOf.get(word) ?? "") ?? 0), 0);
    sentence.score = weight / Math.max(sentence.words.length, MIN_SCORED_WORDS);
  }
  await pause();

  const topSentences = firstUniqueByText(
    sentences.filter((sentence) => sentence.score > 0).sort(byScore),
    summarySentences,
  ).map(({ text, score, sourceIndex }) => ({ sentence: text, score: round(score), sourceIndex }));

  const summaries = input.sources.map((source, index) => {
    const own = sources[index] ?? [];
    const best = [...own].sort(byScore).slice(0, summarySentences);
    return {
      title: source.title ?? source.url ?? `Source ${index + 1}`,
      ...(source.url === undefined ? {} : { url: source.url }),
      wordCount: own.reduce((sum, sentence) => sum + sentence.words.length, 0),
      summary: best
        .sort((a, b) => a.position - b.position)
        .map((sentence) => sentence.text)
        .join(" "),
    };
  });
  void ctx.progress(95);

  const stats = { sourceCount: input.sources.length, wordCount, sentenceCount: sentences.length };
  void ctx.log(
    "info",
    `Research brief on "${topic}": ${count(stats.sourceCount, "source")}, ${count(wordCount, "word")}, ` +
      `${count(stats.sentenceCount, "sentence")}; ` +
      `key terms ${keyTerms.map((keyTerm) => keyTerm.term).join(", ") || "none"}`,
    stats,
  );
  return { topic, keyTerms, topSentences, sources: summaries, stats };
};

/**
 * Splits on blank lines, on line breaks before a line that does not continue the sentence, and
 * on . ! ? followed by a word that does not start in lower case, except after abbreviations and initials.
 */
export function splitSentences(text: string): string[] {
  return [...sentencesOf(text)];
}

/**
 * splitSentences one sentence at a time, so a caller can pause between them. Every step is linear
 * in the text: no regex here can backtrack over more than the line or word it starts in, and no
 * string is rebuilt or rescanned from its start once per sentence.
 */
function* sentencesOf(text: string): Generator<string> {
  for (const block of blocksOf(text)) {
    const normalised = block.replace(/\s+/g, " ").trim();
    let start = 0;
    for (const { index, end } of sentenceEndCandidates(normalised)) {
      if (isSentenceEnd(normalised, index, end)) {
        const sentence = normalised.slice(start, end).trim();
        if (HAS_LETTER_OR_DIGIT.test(sentence)) yield sentence;
        start = end;
      }
    }
    const last = normalised.slice(start).trim();
    if (HAS_LETTER_OR_DIGIT.test(last)) yield last;
  }
}

/** Paragraphs and list items, with wrapped lines (a line that starts in lower case) joined to the one before. */
function* blocksOf(text: string): Generator<string> {
  // Lines of the block being built, joined once at its end rather than re-concatenated line by line.
  let lines: string[] = [];
  for (const rawLine of text.replace(/\r\n?/g, "\n").split("\n")) {
    const bullet = BULLET.exec(rawLine);
    const line = rawLine.slice(bullet?.[0].length ?? 0).trim();
    if (line && lines.length > 0 && !bullet && /^\p{Ll}/u.test(line)) {
      lines.push(line);
      continue;
    }
    if (lines.length > 0) yield lines.join(" ");
    lines = line ? [line] : [];
  }
  if (lines.length > 0) yield lines.join(" ");
}

/**
 * Where `text` (whitespace already collapsed to single spaces) has a run of . ! ? … and optional
 * closing quotes or brackets followed by a space: what `/[.!?…]+["'”’)\]]*(?= )/g` finds, but in
 * one pass. That regex retries every position of a long run of dots that no space follows, which
 * makes it quadratic in the run's length.
 */
function* sentenceEndCandidates(text: string): Generator<{ index: number; end: number }> {
  let i = 0;
  while (i < text.length) {
    if (!isTerminator(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const index = i;
    while (i < text.length && isTerminator(text.charCodeAt(i))) i++;
    while (i < text.length && isCloser(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) === SPACE) yield { index, end: i };
  }
}

const SPACE = 0x20;

/** . ! ? … */
function isTerminator(code: number): boolean {
  return code === 0x2e || code === 0x21 || code === 0x3f || code === 0x2026;
}

/** " ' ” ’ ) ] */
function isCloser(code: number): boolean {
  return code === 0x22 || code === 0x27 || code === 0x201d || code === 0x2019 || code === 0x29 || code === 0x5d;
}

const BULLET = /^\s*(?:[-*•]|\d+[.)])\s+/;
const HAS_LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
/** Sticky, so it tests one position without slicing off the rest of the text. */
const LOWER_CASE_AT = /\p{Ll}/uy;

/**
 * Whether the terminator at text[index, end), followed by a space, ends a sentence. Looks only at
 * the word it closes and the first letter after it, so the candidates of a block cost linear time
 * in all: each word is examined once.
 */
function isSentenceEnd(text: string, index: number, end: number): boolean {
  LOWER_CASE_AT.lastIndex = end + 1;
  if (LOWER_CASE_AT.test(text)) return false;
  if (end - index !== 1 || text.charCodeAt(index) !== 0x2e) return true;
  // The word the full stop closes: back to the previous space (the only whitespace left in text).
  const wordStart = index === 0 ? 0 : text.lastIndexOf(" ", index - 1) + 1;
  const word = text.slice(wordStart, index).replace(/^[("'“‘[]+/, "");
  const isInitial = /^\p{Lu}$/u.test(word) || /^(?:\p{L}\.)+\p{L}$/u.test(word);
  return !isInitial && !ABBREVIATIONS.has(word.toLowerCase());
}

/** Lower-case words; possessive "'s" dropped so "queue's" counts as "queue". */
export function tokenize(text: string): string[] {
  const words = text.toLowerCase().replace(/[’‘]/g, "'").match(WORD) ?? [];
  return words.map((word) => word.replace(/'s$/, ""));
}

function isCandidateTerm(word: string): boolean {
  return word.length >= 2 && /\p{L}/u.test(word) && !STOP_WORDS.has(word);
}

/** Counts candidate terms, folding a plural into its singular when both occur ("queues" -> "queue"). */
function countTerms(words: string[]): { counts: Map<string, number>; termOf: Map<string, string> } {
  const raw = new Map<string, number>();
  for (const word of words) if (isCandidateTerm(word)) raw.set(word, (raw.get(word) ?? 0) + 1);

  const counts = new Map<string, number>();
  const termOf = new Map<string, string>();
  for (const [word, count] of raw) {
    const term = singularIn(word, raw) ?? word;
    termOf.set(word, term);
    counts.set(term, (counts.get(term) ?? 0) + count);
  }
  return { counts, termOf };
}

function singularIn(word: string, vocabulary: Map<string, number>): string | undefined {
  if (word.length <= 3 || !word.endsWith("s") || word.endsWith("ss")) return undefined;
  const candidates = [word.slice(0, -1)];
  if (word.endsWith("es")) candidates.unshift(word.slice(0, -2));
  if (word.endsWith("ies")) candidates.unshift(`${word.slice(0, -3)}y`);
  return candidates.find((candidate) => vocabulary.has(candidate));
}

/** Most frequent first; equal counts in code-point order, so the result never depends on locale. */
function rankKeyTerms(counts: Map<string, number>, limit: number): KeyTerm[] {
  return [...counts]
    .sort(([termA, countA], [termB, countB]) => countB - countA || (termA < termB ? -1 : termA > termB ? 1 : 0))
    .slice(0, limit)
    .map(([term, count]) => ({ term, count }));
}

/** The first `limit` sentences, skipping one quoted in more than one source after its first occurrence. */
function firstUniqueByText(sentences: Sentence[], limit: number): Sentence[] {
  const seen = new Set<string>();
  const unique: Sentence[] = [];
  for (const sentence of sentences) {
    if (unique.length >= limit) break;
    const key = sentence.text.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(sentence);
  }
  return unique;
}

function byScore(a: Sentence, b: Sentence): number {
  return b.score - a.score || a.sourceIndex - b.sourceIndex || a.position - b.position;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function round(score: number): number {
  return Math.round(score * 10_000) / 10_000;
}
