import {
  DuplicateCategoriesError,
  EmptyCategoriesError,
  InvalidCategoryError,
  TooManyCategoriesError,
} from './errors.js';

export interface Category {
  readonly name: string;
  readonly description?: string;
}

/** The label given to rows the model cannot code, to invalid answers and to batches whose retries ran out. */
export const FALLBACK_LABEL = 'Other';

const MAX_NAME_LENGTH = 120;
const MAX_DESCRIPTION_LENGTH = 1_000;
export const MAX_CATEGORIES = 500;

/**
 * Parses a categories file: one category per line, `Name` or `Name: description`. Blank lines and lines
 * starting with `#` are skipped; list bullets (`-`, `*`, `1.`) are dropped.
 */
export function parseCategories(text: string, source = 'categories'): Category[] {
  return checkCategories(
    text.split(/\r?\n/).flatMap((raw, i) => parseLine(raw, i + 1)),
    source,
  );
}

/**
 * Categories given as a list (API, JSON): each string `Name` or `Name: description`, or an object whose
 * name and description are taken as they are (a colon in an object's name stays in the name).
 */
export function categoriesFromList(
  items: ReadonlyArray<string | Category>,
  source = 'categories',
): Category[] {
  const entries = items.flatMap((item, i) => {
    if (typeof item !== 'string') {
      const description = item.description?.replace(/\s+/g, ' ').trim();
      return [
        { line: i + 1, name: item.name.replace(/\s+/g, ' ').trim(), ...(description ? { description } : {}) },
      ];
    }
    return parseLine(item.replace(/\r?\n/g, ' '), i + 1);
  });
  return checkCategories(entries, source);
}

/** One line of a categories file: `Name` or `Name: description`; none for blank and `#` lines. */
function parseLine(raw: string, line: number): Array<{ line: number; name: string; description?: string }> {
  const text = raw.replace(/^\uFEFF/, '').trim();
  if (text === '' || text.startsWith('#')) return [];
  const unbulleted = text.replace(/^(?:[-*•]|\d+[.)])\s+/u, '');
  const colon = unbulleted.indexOf(':');
  const name = (colon === -1 ? unbulleted : unbulleted.slice(0, colon)).trim();
  const description = colon === -1 ? undefined : unbulleted.slice(colon + 1).trim() || undefined;
  return [{ line, name, ...(description ? { description } : {}) }];
}

function checkCategories(
  entries: ReadonlyArray<{ line: number; name: string; description?: string }>,
  source: string,
): Category[] {
  if (entries.length === 0) throw new EmptyCategoriesError(source);
  if (entries.length > MAX_CATEGORIES) {
    throw new TooManyCategoriesError(entries.length, MAX_CATEGORIES);
  }
  const seen = new Map<string, string>();
  const duplicates: string[] = [];
  for (const entry of entries) {
    if (entry.name === '')
      throw new InvalidCategoryError(entry.line, entry.name, 'has no name before the colon');
    if (entry.name.length > MAX_NAME_LENGTH) {
      throw new InvalidCategoryError(entry.line, entry.name, `is longer than ${MAX_NAME_LENGTH} characters`);
    }
    if ((entry.description?.length ?? 0) > MAX_DESCRIPTION_LENGTH) {
      throw new InvalidCategoryError(
        entry.line,
        entry.name,
        `has a description longer than ${MAX_DESCRIPTION_LENGTH}`,
      );
    }
    const key = categoryKey(entry.name);
    if (seen.has(key)) duplicates.push(entry.name);
    else seen.set(key, entry.name);
  }
  if (duplicates.length > 0) throw new DuplicateCategoriesError(duplicates);
  return entries.map(({ name, description }) => (description ? { name, description } : { name }));
}

export function categoryKey(name: string): string {
  return name.normalize('NFKC').trim().toLowerCase();
}

/** The labels the model may answer with: the categories, plus the fallback label unless already listed. */
export function allowedLabels(categories: readonly Category[]): string[] {
  const names = categories.map((c) => c.name);
  const hasFallback = names.some((n) => categoryKey(n) === categoryKey(FALLBACK_LABEL));
  return hasFallback ? names : [...names, FALLBACK_LABEL];
}

/** The fallback label as the categories spell it (`other`, `OTHER`), so the output never has two spellings. */
export function fallbackLabel(categories: readonly Category[]): string {
  return categories.find((c) => categoryKey(c.name) === categoryKey(FALLBACK_LABEL))?.name ?? FALLBACK_LABEL;
}
