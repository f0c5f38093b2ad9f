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
