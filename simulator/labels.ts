import type { Category } from '../domain/categories.js';
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
  const text = normalizeAnswer(answer);
  const match = categories.find(
    (category) =>
      categoryKey(category.name) !== categoryKey(FALLBACK_LABEL) &&
      keywords(category).some((keyword) => containsWord(text, keyword)),
  );
  return match?.name ?? fallbackLabel(categories);
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
 * Recovers the categories from a request: the names are the schema's enum, the descriptions come from the
 * `- Name: description` lines `buildInstructions` writes into the system message (the first line per name).
 */
export function categoriesFromPrompt(instructions: string, labels: readonly string[]): Category[] {
  const descriptions = new Map<string, string>();
  for (const line of instructions.split('\n')) {
    if (!line.startsWith('- ')) continue;
    const colon = line.indexOf(': ');
    if (colon === -1) continue;
    const name = line.slice(2, colon);
    if (!descriptions.has(name)) descriptions.set(name, line.slice(colon + 2).trim());
  }
  return labels.map((name) => {
    const description = descriptions.get(name);
    return description ? { name, description } : { name };
  });
}
