import type { CodingMode } from '../domain/prompt.js';
import { FALLBACK_LABEL, categoryKey, fallbackLabel } from '../domain/categories.js';
import { normalizeAnswer } from '../domain/text.js';

/**
 * The simulator's "model": a rule simple enough for tests and the example workbook to predict.
 *
 * The answer is normalised as `normalizeAnswer` does (NFKC, trimmed, inner whitespace collapsed, lower case).
 * Categories are tried in the order given, skipping the fallback label ("Other", any case). A category's
 * keywords are its name plus, if it has a description, each comma- or semicolon-separated phrase of the
 * description (normalised the same way; phrases shorter than 3 characters are ignored). The first category
 * with a keyword occurring in the answer as a whole word or phrase wins: the keyword must start at the start
 * of the answer or after a character that is not a letter or digit, and end likewise (Unicode aware, so
 * "price" is found in "the price." but not in "priceless"). No category → the fallback label, spelled as the
 * categories spell it ("Other" if they do not list it).
 */
export function expectedLabel(
  answer: string,
  categories: ReadonlyArray<{ name: string; description?: string }>,
): string {
  return matching(answer, categories)[0] ?? fallbackLabel(categories);
}

/**
 * The rule for a request of either mode. Single-label: `expectedLabel`. Multi-code: every category with a
 * keyword in the answer, in the categories' order, at most `maxCodes` of them (the first ones, as a model
 * told the maximum keeps to it); the fallback alone when none.
 */
export function expectedLabels(
  answer: string,
  categories: ReadonlyArray<{ name: string; description?: string }>,
  mode: CodingMode,
): string[] {
  if (!mode.multi) return [expectedLabel(answer, categories)];
  const found = matching(answer, categories).slice(0, mode.maxCodes);
  return found.length > 0 ? found : [fallbackLabel(categories)];
}

/** The names of the categories (the fallback aside) with a keyword in the answer, in the given order. */
function matching(
  answer: string,
  categories: ReadonlyArray<{ name: string; description?: string }>,
): string[] {
  const text = normalizeAnswer(answer);
  return categories
    .filter(
      (category) =>
        categoryKey(category.name) !== categoryKey(FALLBACK_LABEL) &&
        keywords(category).some((keyword) => containsWord(text, keyword)),
    )
    .map((category) => category.name);
}

function keywords(category: { name: string; description?: string }): string[] {
  const phrases = (category.description ?? '')
    .split(/[,;]/)
    .map(normalizeAnswer)
    .filter((phrase) => [...phrase].length >= 3);
  return [normalizeAnswer(category.name), ...phrases].filter((keyword) => keyword !== '');
}

function containsWord(text: string, keyword: string): boolean {
  const escaped = keyword.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'u').test(text);
}

/**
 * Whether the simulator codes this answer wrong on purpose at `rate` (`wrongRate`): the answer's normalised
 * text hashed (FNV-1a, 32 bits, then mixed) to a number in [0, 1), wrong below the rate. A hash rather than the PRNG, so
 * that the same answer is wrong in every request, batch size and retry, and a test can tell which ones.
 */
export function isWrongAnswer(answer: string, rate: number): boolean {
  if (rate <= 0) return false;
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(normalizeAnswer(answer))) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // MurmurHash3's finaliser: FNV leaves the high bits of texts that differ at the end too alike.
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  hash = (hash ^ (hash >>> 16)) >>> 0;
  return hash / 2 ** 32 < rate;
}

/**
 * A wrong coding in place of the right one, from the labels the request allows: single-label, the label
 * after the right one (the fallback included); multi-code, the first label swapped for the next one the
 * answer does not have, the fallback skipped (verbatim drops it beside another label).
 */
export function wrongLabels(
  correct: readonly string[],
  allowed: readonly string[],
  mode: CodingMode,
): string[] {
  const at = (label: string | undefined) =>
    allowed.findIndex((l) => label !== undefined && categoryKey(l) === categoryKey(label));
  const first = at(correct[0]);
  if (!mode.multi) return [allowed[(first + 1) % allowed.length] ?? correct[0] ?? ''];
  const taken = new Set(correct.map(categoryKey));
  const fallback = categoryKey(fallbackLabel(allowed.map((name) => ({ name }))));
  for (let step = 1; step < allowed.length; step += 1) {
    const candidate = allowed[(first + step) % allowed.length] ?? '';
    if (!taken.has(categoryKey(candidate)) && categoryKey(candidate) !== fallback)
      return [candidate, ...correct.slice(1)];
  }
  return [...correct];
}
