// @ts-check
// Which column of a preview holds the answers, and how to name it to the API. No DOM here.

/** @import { Preview } from '../types.js' */

/**
 * The open-text column: the one whose cells are the longest texts (numbers and dates do not count).
 * @param {Preview} preview
 * @returns {number} its index in `preview.columns`, or -1 when no column looks like answers
 */
export function guessColumn(preview) {
  let best = -1;
  let bestScore = 12; // shorter than this on average: codes, names, dates, not answers to a question
  preview.columns.forEach((_, i) => {
    const cells = preview.rows.map((r) => (r.cells[i] ?? '').trim()).filter((t) => t !== '');
    const texts = cells.filter((t) => /\p{L}{2}/u.test(t) && !/^[\d\s.,:/+-]+$/.test(t));
    if (cells.length === 0 || texts.length * 2 < cells.length) return;
    const score = texts.reduce((sum, t) => sum + t.length, 0) / texts.length;
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  });
  return best;
}

/**
 * Data rows of the previewed sheet, when the file records its size.
 * @param {Preview} preview
 */
export function sheetSize(preview) {
  const sheet = preview.sheets.find((s) => s.name === preview.sheet);
  return sheet?.lastRow && preview.headerRow ? Math.max(0, sheet.lastRow - preview.headerRow) : undefined;
}

/**
 * A column by the name a job was sent: its header, its letter, or as the page names it; -1 when none.
 * @param {Preview} preview
 * @param {string} want
 */
export function findColumn(preview, want) {
  return preview.columns.findIndex(
    (c, i) => columnValue(preview, i) === want || c.header.trim() === want || c.letter === want,
  );
}

/**
 * What to send as `column`: the header when it names one column only, else the column letter.
 * @param {Preview} preview
 * @param {number} index a column of the preview
 */
export function columnValue(preview, index) {
  const column = preview.columns[index];
  if (!column) throw new Error(`The preview has no column ${index}`);
  /** @param {string | undefined} text */
  const key = (text) => (text ?? '').trim().replace(/\s+/g, ' ').toLowerCase();
  const header = key(column.header);
  const clash = preview.columns.some(
    (other, i) => i !== index && (key(other.header) === header || key(other.question) === header),
  );
  return header && !clash ? column.header.trim() : column.letter;
}
