/**
 * Confidence per answer from the model's log-probabilities: the probability of the category number it
 * chose, renormalised over the category numbers it was allowed to choose.
 *
 * - Alignment. The answer is `{"12":3,…}` (multi-code `{"12":[3,7],…}`). Each token of
 *   `choices[0].logprobs.content` covers a run of the content's UTF-8 bytes (its `bytes`, in order), so
 *   the token that holds the first byte of a category number is found by byte offset. JSON punctuation may
 *   share that token (`":3`, `[3`): the part before the number is its prefix, and only alternatives with
 *   the same prefix are read as numbers in that place.
 * - Renormalisation. `top_logprobs` also lists tokens the schema's grammar forbids (a `"`, a letter, a
 *   number past the last category), and the probabilities are the model's before the grammar. The chosen
 *   token's probability is divided by the sum over the alternatives (the chosen one included) that are
 *   allowed category numbers; the forbidden ones count for nothing. Alternatives outside the top ones are
 *   not known and count for nothing either.
 * - A number split over tokens (a tokenizer that cuts digits: o200k keeps up to three digits in one token,
 *   so categories 1–999 are one token each) is judged by its first token: an alternative counts for every
 *   allowed number that starts with its digits, once. An approximation: the later tokens' doubt is left out.
 * - Multi-code: an answer is as sure as its least sure label, the minimum over the labels kept.
 * - Anything that does not align (no logprobs, bytes that do not match the content, a value that is no
 *   number) gives no confidence rather than a guess.
 */
import type { Category } from './categories.js';
import type { PromptItem } from './prompt.js';
import { categoryNumbers, numberOfLabel } from './prompt.js';

/** One of `top_logprobs`, as the API returns it. */
export interface TopLogprob {
  readonly token: string;
  readonly bytes?: readonly number[] | null;
  readonly logprob: number;
}

/** One token of `choices[0].logprobs.content`, as the API returns it. */
export interface TokenLogprob extends TopLogprob {
  readonly top_logprobs?: readonly TopLogprob[] | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The bytes a token covers: its `bytes`, or its text in UTF-8 when the API gives none. */
function tokenBytes(token: TopLogprob): Uint8Array {
  return token.bytes ? Uint8Array.from(token.bytes) : encoder.encode(token.token);
}

/** A category number in the content: the id it answers, its digits and where they start (a byte offset). */
interface NumberSpan {
  readonly id: string;
  readonly digits: string;
  readonly start: number;
}

/**
 * The confidence of each category number given to each id: id → number → 0–1. Numbers that do not align
 * with a token, or whose token has no allowed alternative with any probability, are left out.
 */
export function labelConfidences(
  content: string,
  tokens: readonly TokenLogprob[],
  categoryCount: number,
): Map<string, Map<number, number>> {
  const bytes = encoder.encode(content);
  const starts: number[] = [];
  const covered: Uint8Array[] = [];
  let offset = 0;
  for (const token of tokens) {
    const b = tokenBytes(token);
    starts.push(offset);
    covered.push(b);
    offset += b.length;
  }
  const out = new Map<string, Map<number, number>>();
  let t = 0;
  for (const span of numberSpans(bytes)) {
    while (t + 1 < tokens.length && (starts[t + 1] ?? Infinity) <= span.start) t += 1;
    const token = tokens[t];
    const tokenStart = starts[t] ?? 0;
    const own = covered[t];
    if (!token || !own || tokenStart > span.start || !sameBytes(own, bytes, tokenStart)) continue;
    const number = Number(span.digits);
    if (!Number.isInteger(number) || number < 1 || number > categoryCount) continue;
    const confidence = tokenConfidence(
      token,
      decoder.decode(own.subarray(0, span.start - tokenStart)),
      categoryCount,
    );
    if (confidence === undefined) continue;
    const byNumber = out.get(span.id) ?? new Map<number, number>();
    byNumber.set(number, Math.min(byNumber.get(number) ?? 1, confidence));
    out.set(span.id, byNumber);
  }
  return out;
}

/** Whether `token` is the content's bytes from `at` (a token that does not match is not aligned). */
function sameBytes(token: Uint8Array, content: Uint8Array, at: number): boolean {
  if (at + token.length > content.length) return false;
  return token.every((b, i) => content[at + i] === b);
}

/**
 * The chosen token's share of the probability of the allowed category numbers at its place. `prefix` is the
 * punctuation the chosen token carries before the number (`":` in `":3`).
 */
function tokenConfidence(token: TokenLogprob, prefix: string, categoryCount: number): number | undefined {
  const chosen = numberDigits(token.token, prefix);
  if (chosen === undefined || !startsAnAllowedNumber(chosen, categoryCount)) return undefined;
  // The chosen token is among the top ones when it was likely; when it was not, it still counts.
  const alternatives = new Map<string, number>([[token.token, token.logprob]]);
  for (const alt of token.top_logprobs ?? []) {
    const text = alt.bytes ? decoder.decode(Uint8Array.from(alt.bytes)) : alt.token;
    if (!alternatives.has(text)) alternatives.set(text, alt.logprob);
  }
  let allowed = 0;
  for (const [text, logprob] of alternatives) {
    const digits = numberDigits(text, prefix);
    if (digits === undefined || !startsAnAllowedNumber(digits, categoryCount)) continue;
    allowed += Math.exp(logprob);
  }
  const p = Math.exp(token.logprob);
  return allowed > 0 ? Math.min(1, p / allowed) : undefined;
}

/**
 * The digits a token puts where a category number goes: after `prefix`, then only digits, or digits ended
 * by what may follow a number in the answer (`,` `}` `]` or a space). Undefined for anything else: a quote,
 * a letter, a minus sign, a leading zero.
 */
function numberDigits(text: string, prefix: string): string | undefined {
  if (!text.startsWith(prefix)) return undefined;
  const match = /^(\d+)([\s,}\]].*)?$/su.exec(text.slice(prefix.length));
  const digits = match?.[1];
  if (digits === undefined || (digits.length > 1 && digits.startsWith('0'))) return undefined;
  // Digits followed by an end can be that number only; bare digits may go on in the next token.
  return match?.[2] === undefined ? digits : `${digits}$`;
}

/** Whether some number 1…count is these digits (`12$`: exactly), or starts with them (`1`: 1, 10–19, …). */
function startsAnAllowedNumber(digits: string, count: number): boolean {
  if (digits.endsWith('$')) {
    const n = Number(digits.slice(0, -1));
    return n >= 1 && n <= count;
  }
  const n = Number(digits);
  if (n < 1) return false;
  if (n <= count) return true;
  // A longer number with these leading digits: n·10^k … (n+1)·10^k − 1 for some k.
  return n * 10 <= count;
}

/**
 * Where the category numbers are in an answer `{"id":n,…}` or `{"id":[n,…],…}`, read from its bytes: each
 * number's digits and first byte, with its id. Values of another shape give no span; the scan stops at the
 * first thing that is not such an object (a cut-off answer gives the spans before the cut).
 */
function numberSpans(bytes: Uint8Array): NumberSpan[] {
  const spans: NumberSpan[] = [];
  const QUOTE = 0x22;
  let i = 0;
  const space = () => {
    while (i < bytes.length && [0x20, 0x09, 0x0a, 0x0d].includes(bytes[i] ?? 0)) i += 1;
  };
  const at = (c: string) => bytes[i] === c.charCodeAt(0);
  /** The string starting at i (a quote); i ends after its closing quote. */
  const string = (): string | undefined => {
    const start = i;
    i += 1;
    while (i < bytes.length && bytes[i] !== QUOTE) i += bytes[i] === 0x5c ? 2 : 1;
    if (i >= bytes.length) return undefined;
    i += 1;
    try {
      return JSON.parse(decoder.decode(bytes.subarray(start, i))) as string;
    } catch {
      return undefined;
    }
  };
  const number = (id: string): boolean => {
    const start = i;
    while (i < bytes.length && (bytes[i] ?? 0) >= 0x30 && (bytes[i] ?? 0) <= 0x39) i += 1;
    if (i === start) return false;
    spans.push({ id, digits: decoder.decode(bytes.subarray(start, i)), start });
    return true;
  };
  space();
  if (!at('{')) return spans;
  i += 1;
  for (;;) {
    space();
    if (!at('"')) return spans;
    const id = string();
    if (id === undefined) return spans;
    space();
    if (!at(':')) return spans;
    i += 1;
    space();
    if (at('[')) {
      i += 1;
      for (;;) {
        space();
        if (at(']')) {
          i += 1;
          break;
        }
        if (!number(id)) return spans;
        space();
        if (at(',')) i += 1;
      }
    } else if (!number(id)) return spans;
    space();
    if (!at(',')) return spans;
    i += 1;
  }
}

/**
 * An answer's confidence from its labels' numbers: the least sure of them (multi-code), undefined when any
 * has none (or there are none).
 */
export function answerConfidence(
  byNumber: ReadonlyMap<number, number> | undefined,
  numbers: readonly number[],
): number | undefined {
  if (!byNumber || numbers.length === 0) return undefined;
  let least = 1;
  for (const n of numbers) {
    const c = byNumber.get(n);
    if (c === undefined) return undefined;
    least = Math.min(least, c);
  }
  return least;
}

/** Confidences are stored with four decimals: enough to rank and threshold, short in the result files. */
export function roundConfidence(confidence: number): number {
  return Math.round(confidence * 10_000) / 10_000;
}

/**
 * Each item's confidence, for the labels it was given (after validation), aligned with the items; null
 * where none could be computed. `tokens` is `choices[0].logprobs.content` (absent: all null).
 */
export function batchConfidences(input: {
  readonly content: string | null | undefined;
  readonly tokens: readonly TokenLogprob[] | null | undefined;
  readonly items: readonly PromptItem[];
  readonly categories: readonly Category[];
  readonly labels: ReadonlyMap<string, readonly string[]>;
}): Array<number | null> {
  const numbered = categoryNumbers(input.categories);
  const byId =
    input.content && input.tokens
      ? labelConfidences(input.content, input.tokens, numbered.length)
      : new Map<string, Map<number, number>>();
  return input.items.map((item) => {
    const numbers = (input.labels.get(item.id) ?? []).map((label) => numberOfLabel(numbered, label) ?? 0);
    const confidence = answerConfidence(byId.get(item.id), numbers);
    return confidence === undefined ? null : roundConfidence(confidence);
  });
}
