/** Spreadsheet column addressing: 1-based indexes and letters (A, Z, AA, XFD). */

const MAX_COLUMNS = 16_384; // Excel's limit (XFD)

export function columnLetter(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > MAX_COLUMNS) {
    throw new RangeError(`Column index out of range: ${index}`);
  }
  let n = index;
  let letters = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    letters = String.fromCharCode(65 + rem) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

/** The 1-based index of a column written as letters, or undefined when `text` is not one (case-insensitive). */
export function columnIndex(text: string): number | undefined {
  const letters = text.trim().toUpperCase();
  if (!/^[A-Z]{1,3}$/.test(letters)) return undefined;
  let index = 0;
  for (const ch of letters) index = index * 26 + (ch.charCodeAt(0) - 64);
  return index <= MAX_COLUMNS ? index : undefined;
}
