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

/**
 * Characters a reader of the cell does not see but a model reads (or trips over): C0 and C1 control codes,
 * NUL included (tab, line breaks, vertical tab and form feed stay: they read as space), bidirectional
 * overrides and marks, the zero-width space and the word joiner, the byte-order mark, the soft hyphen,
 * interlinear annotations, and tag characters (invisible ASCII, a known way to smuggle instructions into a
 * prompt). ZWJ and ZWNJ stay: emoji sequences and Persian and Indic spelling need them.
 */
const INVISIBLE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000E-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\uFFF9-\uFFFB\u{E0000}-\u{E007F}]/gu;
/** Half of a surrogate pair without its other half: no character at all (a damaged or truncated string). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The copy of an answer (or question) that is sent to the model: what a person sees in the cell. Invisible
 * and control characters and lone surrogates go, runs of spaces and tabs become one space, line breaks are
 * kept (at most one empty line), and the text is in NFC. The sheet keeps the text as it was; only the prompt
 * gets this copy. Pure and linear in the text's length.
 */
export function cleanForModel(text: string): string {
  return text
    .replace(LONE_SURROGATE, '')
    .replace(INVISIBLE, '')
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[^\S\n]+/gu, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * Same answer ⇔ same key: what the model is sent (`cleanForModel`), then NFKC, inner whitespace collapsed,
 * case-folded. So two cells that differ only by an invisible character are one answer, sent once.
 */
export function normalizeAnswer(text: string): string {
  return cleanForModel(text).normalize('NFKC').trim().replace(/\s+/gu, ' ').toLowerCase();
}

/** Nothing a reader would see: spaces, or only invisible and control characters (a cell holding a lone NUL). */
export function isBlank(text: string): boolean {
  return cleanForModel(text) === '';
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
