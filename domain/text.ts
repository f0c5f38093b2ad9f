/** Text rules for answers: what counts as the same answer, and what is not an answer at all. */

/** Placeholders survey tools and spreadsheets put where there is no answer. Compared after `normalizeAnswer`. */
const PLACEHOLDERS = new Set([
  '-',
  '--',
  '---',
  '.',
  '..',
  '...',
  '?',
  'n/a',
  'na',
  'n.a.',
  'n.a',
  '#n/a',
  'null',
  'nil',
  'nan',
  'undefined',
  '#value!',
  '#ref!',
  '#div/0!',
  '#name?',
  '#num!',
  '#null!',
]);

/** Same answer ⇔ same key: Unicode-normalised, trimmed, inner whitespace collapsed, case-folded. */
export function normalizeAnswer(text: string): string {
  return text.normalize('NFKC').trim().replace(/\s+/gu, ' ').toLowerCase();
}

export function isBlank(text: string): boolean {
  return text.trim() === '';
}

/** Not worth an API call: no letter or digit at all, or a known placeholder such as `n/a` or `#N/A`. */
export function isInvalidAnswer(text: string): boolean {
  const key = normalizeAnswer(text);
  if (PLACEHOLDERS.has(key)) return true;
  return !/[\p{L}\p{N}]/u.test(key);
}

/** Shortens text for messages and logs (never for what is sent to the model). */
export function truncate(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
