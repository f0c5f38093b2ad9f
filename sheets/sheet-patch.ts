/**
 * Patches a worksheet part as a stream: new cells go into their rows in column order, rows that need
 * values and are missing are inserted in order, and `<dimension>`, `<cols>`, row spans and (optionally)
 * the sheet's `<autoFilter>` grow to cover the new columns. Every other byte is copied as it was read.
 *
 * Memory holds the current input chunk and at most one cell (a header cell is held until its content
 * tells whether it is empty); time is linear in the part's size.
 */
import { columnIndex, columnLetter } from '../domain/columns.js';
import { XmlScanner, XmlSyntaxError, escapeCellText, withAttribute } from './xml-scan.js';

export interface PatchColumn {
  /** 1-based column (A = 1). */
  readonly index: number;
  /**
   * Header text written at `row` only when that cell is empty: absent, or without a value, inline text or
   * formula. A shared-string cell counts as filled (the shared strings are not read).
   */
  readonly header?: { readonly row: number; readonly text: string } | undefined;
  /** Column width in characters, set only when no `<col>` range of the sheet covers the column. */
  readonly width?: number | undefined;
  /**
   * The value for `row`, or undefined to leave that cell as it is. Called once for every row of the patch's
   * row range, in ascending order, whether the row is in the sheet or not (rows the part lists out of order
   * are left alone). A string is written as an inline string, a number as a number; `''` writes an empty
   * string over the cell.
   */
  value(row: number): string | number | undefined;
}

export interface RowRange {
  /** The first and last row that may get values; the used range (`<dimension>`) grows to `to`. */
  readonly from: number;
  readonly to: number;
}

export interface SheetPatchPlan {
  /** Sorted by index, no index twice. */
  readonly columns: readonly PatchColumn[];
  readonly rows: RowRange;
  /**
   * Grow the sheet's autoFilter to the last new column when it starts on the header row (the first header
   * row of the columns) and ends right before the first new column.
   */
  readonly widenAutoFilter: boolean;
  /** The last column a widened filter reaches; default the last new column. */
  readonly widenAutoFilterTo?: number | undefined;
}

interface PlannedCell {
  readonly column: number;
  readonly kind: 'value' | 'header';
  readonly value: string | number;
}

interface RowState {
  readonly patch: boolean;
  readonly number: number;
  readonly cells: readonly PlannedCell[];
  /** The next planned cell to place. */
  next: number;
  /** The column of the last cell seen, for cells without `r`. */
  lastColumn: number;
  /** The `s` of the nearest filled cell so far: null when it has none, undefined when none was filled. */
  filledStyle: string | null | undefined;
  /** The row element's prefix (`x:`), for its new cells. */
  readonly prefix: string;
  wroteValue: boolean;
}

interface CellState {
  /** Where the cell's start tag begins in the current buffer. */
  start: number;
  readonly s: string | undefined;
  filled: boolean;
  formula: boolean;
  /** The planned cell for this column: a value replaces the cell, a header replaces it if it is empty. */
  readonly planned: PlannedCell | undefined;
}

const IDLE_ROW: RowState = {
  patch: false,
  number: 0,
  cells: [],
  next: 0,
  lastColumn: 0,
  filledStyle: undefined,
  prefix: '',
  wroteValue: false,
};

/** A tag, or a held cell, larger than this is not a worksheet (Excel's cells hold 32,767 characters). */
const MAX_HELD_BYTES = 16 * 2 ** 20;
const MAX_ROW = 1_048_576;

export class SheetPatcher {
  /** Rows that got at least one value. */
  rowsPatched = 0;
  /**
   * Formula cells a value replaced. Excel lists formula cells in xl/calcChain.xml, which is copied as it is,
   * and offers to repair a chain that names a cell holding no formula any more.
   */
  formulasReplaced = 0;
  /** The autoFilter range before and after, when it was widened. */
  widenedFilter: { readonly from: string; readonly to: string } | undefined;

  private readonly scanner = new XmlScanner();
  private bytes: Buffer = Buffer.alloc(0);
  /** Where scanning resumes in `bytes`: after a held cell's bytes already read. */
  private resume = 0;
  private out: Buffer[] = [];
  private copyFrom = 0;
  private depth = 0;
  private phase: 'head' | 'cols' | 'data' | 'tail' = 'head';
  private started = false;
  private colsSeen = false;
  private sheetDataSeen = false;
  private prefixOfCols = '';
  private prefixOfRows = '';
  private readonly widths: Array<{ readonly index: number; readonly width: number; covered: boolean }>;
  private nextWidth = 0;
  private readonly headerRows: number[];
  private readonly headersDone = new Set<number>();
  /** The row before the next row without `r`, and the highest row number seen (or inserted). */
  private prevRow = 0;
  private maxRow = 0;
  private lastValueRow = 0;
  private row: RowState | undefined;
  private cell: CellState | undefined;
  private readonly letters = new Map<number, string>();
  private readonly escaped = new Map<string, string>();

  constructor(
    private readonly plan: SheetPatchPlan,
    private readonly fail: (reason: string) => Error,
  ) {
    this.widths = plan.columns
      .filter((c) => c.width !== undefined)
      .map((c) => ({ index: c.index, width: c.width ?? 0, covered: false }));
    this.headerRows = [...new Set(plan.columns.flatMap((c) => (c.header ? [c.header.row] : [])))].sort(
      (a, b) => a - b,
    );
  }

  /** Takes the next bytes of the part; returns the patched bytes ready so far. */
  push(chunk: Buffer): Buffer {
    if (!this.started) {
      this.started = true;
      if (
        chunk.length >= 2 &&
        ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))
      ) {
        throw this.fail('is UTF-16 text; only UTF-8 worksheets can be patched');
      }
    }
    this.bytes = this.bytes.length === 0 ? chunk : Buffer.concat([this.bytes, chunk]);
    return this.process(false);
  }

  /** The rest of the patched bytes, once the part has been read to its end. */
  end(): Buffer {
    const out = this.process(true);
    if (this.cell || this.row) throw this.fail('ends inside a row');
    if (this.phase === 'data') throw this.fail('ends inside <sheetData>');
    if (!this.sheetDataSeen && this.plan.columns.length > 0) throw this.fail('has no <sheetData>');
    return out;
  }

  private process(final: boolean): Buffer {
    const sc = this.scanner;
    sc.reset(this.bytes.toString('latin1'), this.resume);
    this.copyFrom = 0;
    this.out = [];
    try {
      this.run(final);
    } catch (error) {
      if (error instanceof XmlSyntaxError) throw this.fail(`is not well-formed XML: ${error.message}`);
      throw error;
    }
    // What is left unread (part of a token) is kept for the next chunk; so is a header cell, held until its
    // end says whether it is empty; a cell being replaced is dropped as it is read.
    const unread = final ? this.bytes.length : sc.pos;
    let keep = unread;
    if (this.cell?.planned?.kind === 'header') keep = Math.min(unread, this.cell.start);
    else if (this.cell?.planned) this.copyFrom = Math.max(this.copyFrom, unread);
    this.emitUpTo(keep);
    if (this.bytes.length - keep > MAX_HELD_BYTES) {
      throw this.fail('has a tag, comment or cell longer than 16 MiB');
    }
    this.bytes = Buffer.from(this.bytes.subarray(keep));
    this.resume = unread - keep;
    if (this.cell) this.cell.start -= keep;
    return this.out.length === 1 ? (this.out[0] as Buffer) : Buffer.concat(this.out);
  }

  private run(final: boolean): void {
    const sc = this.scanner;
    while (sc.next(final)) {
      switch (sc.kind) {
        case 'open':
          this.onStart(false);
          this.depth += 1;
          break;
        case 'empty':
          this.onStart(true);
          break;
        case 'close':
          this.depth -= 1;
          this.onEnd();
          break;
        case 'text':
          if (this.cell && !this.cell.filled && sc.hasNonSpaceText()) this.cell.filled = true;
          break;
        case 'other':
          // A CDATA section inside a value holds text; comments and PIs do not fill a cell.
          if (this.cell && sc.text.startsWith('<![CDATA[', sc.start) && sc.end - sc.start > 12) {
            this.cell.filled = true;
          }
          break;
      }
    }
  }

  private onStart(empty: boolean): void {
    const sc = this.scanner;
    const depth = this.depth;
    if (depth === 2 && this.phase === 'data') {
      if (sc.isLocal('row')) this.startRow(empty);
    } else if (depth === 3 && this.row?.patch) {
      if (sc.isLocal('c')) this.startCell(empty);
    } else if (depth >= 4) {
      if (this.cell && sc.isLocal('f')) this.cell.filled = this.cell.formula = true;
    } else if (depth === 1) {
      if (sc.isLocal('dimension')) this.patchDimension();
      else if (sc.isLocal('cols')) this.startCols(empty);
      else if (sc.isLocal('sheetData')) this.startSheetData(empty);
      else if (sc.isLocal('autoFilter') && this.plan.widenAutoFilter) this.patchAutoFilter();
    } else if (depth === 2 && this.phase === 'cols' && sc.isLocal('col')) {
      this.onCol();
    }
  }

  private onEnd(): void {
    const sc = this.scanner;
    const depth = this.depth;
    if (depth === 3 && this.cell && sc.isLocal('c')) this.endCell(sc.end);
    else if (depth === 2 && this.row && sc.isLocal('row')) this.endRow(sc.start);
    else if (depth === 1 && this.phase === 'data' && sc.isLocal('sheetData')) {
      this.insertText(sc.start, this.missingRows(Infinity));
      this.phase = 'tail';
    } else if (depth === 1 && this.phase === 'cols' && sc.isLocal('cols')) {
      this.insertText(sc.start, this.remainingCols(this.prefixOfCols));
      this.phase = 'head';
    }
  }

  // --- before the rows ---------------------------------------------------------------------------------

  private patchDimension(): void {
    const sc = this.scanner;
    const ref = sc.attr('ref');
    const rect = this.patchRect();
    const grown = ref && rect ? unionRef(ref, rect) : undefined;
    if (grown && grown !== ref) this.replaceTag(withAttribute(this.tagText(), 'ref', grown));
  }

  /** The rows and columns the patch may write. */
  private patchRect(): { top: number; bottom: number; left: number; right: number } | undefined {
    const { columns, rows } = this.plan;
    const first = columns[0];
    const last = columns.at(-1);
    if (!first || !last) return undefined;
    const rowNumbers = [...this.headerRows, ...(rows.to >= rows.from ? [rows.from, rows.to] : [])];
    if (rowNumbers.length === 0) return undefined;
    return {
      top: Math.min(...rowNumbers),
      bottom: Math.max(...rowNumbers),
      left: first.index,
      right: last.index,
    };
  }

  private startCols(empty: boolean): void {
    this.colsSeen = true;
    const prefix = this.utf8Prefix();
    if (empty) {
      // `<cols/>` breaks the schema (one `<col>` at least) but costs nothing to mend.
      const cols = this.remainingCols(prefix);
      if (cols) this.replaceToken(`<${prefix}cols>${cols}</${prefix}cols>`);
      return;
    }
    this.prefixOfCols = prefix;
    this.phase = 'cols';
  }

  /** An existing `<col min max>`: new widths for columns before it, and none for columns it covers. */
  private onCol(): void {
    const sc = this.scanner;
    const min = Number(sc.attr('min'));
    const max = Number(sc.attr('max'));
    if (!Number.isInteger(min) || !Number.isInteger(max)) return;
    let xml = '';
    for (let w = this.widths[this.nextWidth]; w && w.index < min; w = this.widths[++this.nextWidth]) {
      xml += colXml(this.prefixOfCols, w);
    }
    for (let w = this.widths[this.nextWidth]; w && w.index <= max; w = this.widths[++this.nextWidth]) {
      w.covered = true;
    }
    this.insertText(sc.start, xml);
  }

  private remainingCols(prefix: string): string {
    let xml = '';
    for (let w = this.widths[this.nextWidth]; w; w = this.widths[++this.nextWidth]) {
      if (!w.covered) xml += colXml(prefix, w);
    }
    return xml;
  }

  private startSheetData(empty: boolean): void {
    const sc = this.scanner;
    this.sheetDataSeen = true;
    const prefix = this.utf8Prefix();
    this.prefixOfRows = prefix;
    // `<cols>` comes right before `<sheetData>` in the schema's order.
    const widths = this.colsSeen ? '' : this.remainingCols(prefix);
    const cols = widths ? `<${prefix}cols>${widths}</${prefix}cols>` : '';
    if (empty) {
      const rows = this.missingRows(Infinity);
      if (rows) this.replaceToken(`${cols}<${prefix}sheetData>${rows}</${prefix}sheetData>`);
      else this.insertText(sc.start, cols);
      this.phase = 'tail';
      return;
    }
    this.insertText(sc.start, cols);
    this.phase = 'data';
  }

  // --- rows and cells ----------------------------------------------------------------------------------

  private startRow(empty: boolean): void {
    const sc = this.scanner;
    const r = sc.attr('r');
    let number = r === undefined ? NaN : Number(r);
    if (!Number.isInteger(number) || number < 1) number = this.prevRow + 1;
    if (number > this.maxRow) {
      this.insertText(sc.start, this.missingRows(number - 1));
      this.maxRow = number;
    }
    this.prevRow = number;
    const cells = this.planRow(number);
    if (cells.length === 0) {
      this.row = empty ? undefined : IDLE_ROW;
      return;
    }
    const prefix = this.utf8Prefix();
    let tag = this.tagText();
    const spans = sc.attr('spans');
    const grown = spans === undefined ? undefined : widenSpans(spans, cells);
    const spansChanged = grown !== undefined && grown !== spans;
    if (spansChanged) tag = withAttribute(tag, 'spans', grown);
    if (empty) {
      // `<row …/>` becomes `<row …>new cells</row>`.
      const row = this.newRow(number, cells, prefix);
      this.replaceTag(`${tag.slice(0, -2).trimEnd()}>`);
      this.insertText(sc.end, `${row.cells}</${prefix}row>`);
      if (row.wroteValue) this.rowsPatched += 1;
      this.row = undefined;
      return;
    }
    if (spansChanged) this.replaceTag(tag);
    this.row = {
      patch: true,
      number,
      cells,
      next: 0,
      lastColumn: 0,
      filledStyle: undefined,
      prefix,
      wroteValue: false,
    };
  }

  private endRow(at: number): void {
    const row = this.row;
    this.row = undefined;
    if (!row?.patch) return;
    this.insertText(at, this.cellsUpTo(row, Infinity));
    if (row.wroteValue) this.rowsPatched += 1;
  }

  private startCell(empty: boolean): void {
    const sc = this.scanner;
    const row = this.row as RowState;
    const r = sc.attr('r');
    let column = r === undefined ? 0 : columnOfRef(r);
    if (column === 0) column = row.lastColumn + 1;
    row.lastColumn = column;
    this.insertText(sc.start, this.cellsUpTo(row, column - 1));
    const next = row.cells[row.next];
    const planned = next?.column === column ? next : undefined;
    if (planned) {
      row.next += 1;
      // Nothing from here on goes out until the cell's end says what becomes of it.
      this.emitUpTo(sc.start);
    }
    this.cell = { start: sc.start, s: sc.attr('s'), filled: false, formula: false, planned };
    if (empty) this.endCell(sc.end);
  }

  private endCell(end: number): void {
    const cell = this.cell as CellState;
    const row = this.row as RowState;
    this.cell = undefined;
    const { planned } = cell;
    if (planned && (planned.kind === 'value' || !cell.filled)) {
      // A value keeps the cell's style; a header takes its filled neighbour's, as write.ts does.
      const s = planned.kind === 'value' || row.filledStyle === undefined ? cell.s : row.filledStyle;
      this.emitUpTo(cell.start);
      this.out.push(Buffer.from(this.cellXml(row.prefix, planned, row.number, s ?? null), 'utf8'));
      this.copyFrom = end;
      row.filledStyle = s ?? null;
      if (planned.kind === 'value') row.wroteValue = true;
      if (cell.formula) this.formulasReplaced += 1;
    } else if (cell.filled) {
      row.filledStyle = cell.s ?? null;
    }
  }

  /** The planned cells of `row` up to `column` that have not been placed yet, as XML. */
  private cellsUpTo(row: RowState, column: number): string {
    let xml = '';
    for (let c = row.cells[row.next]; c && c.column <= column; c = row.cells[++row.next]) {
      const s = c.kind === 'header' ? (row.filledStyle ?? null) : null;
      xml += this.cellXml(row.prefix, c, row.number, s);
      row.filledStyle = s;
      if (c.kind === 'value') row.wroteValue = true;
    }
    return xml;
  }

  /** Rows after the highest seen, up to `limit`, that get cells: header rows and rows of the range. */
  private missingRows(limit: number): string {
    const { from, to } = this.plan.rows;
    let xml = '';
    for (let n = this.maxRow + 1; ; n += 1) {
      if (n < from || n > to) {
        const header = this.headerRows.find((h) => h >= n) ?? Infinity;
        n = Math.min(header, n < from && from <= to ? from : Infinity);
      }
      if (n > limit || n > MAX_ROW) break;
      const cells = this.planRow(n);
      if (cells.length === 0) continue;
      const prefix = this.prefixOfRows;
      const row = this.newRow(n, cells, prefix);
      xml += `<${prefix}row r="${n}">${row.cells}</${prefix}row>`;
      if (row.wroteValue) this.rowsPatched += 1;
    }
    return xml;
  }

  private newRow(
    number: number,
    cells: readonly PlannedCell[],
    prefix: string,
  ): { cells: string; wroteValue: boolean } {
    const row: RowState = { ...IDLE_ROW, patch: true, number, cells, prefix };
    return { cells: this.cellsUpTo(row, Infinity), wroteValue: row.wroteValue };
  }

  /** What `row` gets; asks the columns for values once per row, in ascending order only. */
  private planRow(number: number): PlannedCell[] {
    const { from, to } = this.plan.rows;
    const ask = number >= from && number <= to && number > this.lastValueRow;
    if (ask) this.lastValueRow = number;
    const cells: PlannedCell[] = [];
    for (const column of this.plan.columns) {
      const value = ask ? column.value(number) : undefined;
      if (value !== undefined) {
        if (typeof value === 'number' && !Number.isFinite(value)) {
          throw new RangeError(`column ${column.index}, row ${number}: ${value} is not a finite number`);
        }
        cells.push({ column: column.index, kind: 'value', value });
      } else if (column.header?.row === number && !this.headersDone.has(column.index)) {
        this.headersDone.add(column.index);
        cells.push({ column: column.index, kind: 'header', value: column.header.text });
      }
    }
    return cells;
  }

  private cellXml(prefix: string, cell: PlannedCell, row: number, s: string | null): string {
    let letters = this.letters.get(cell.column);
    if (letters === undefined) {
      letters = columnLetter(cell.column);
      this.letters.set(cell.column, letters);
    }
    const style = s === null ? '' : ` s="${s}"`;
    const p = prefix;
    if (typeof cell.value === 'number') {
      return `<${p}c r="${letters}${row}"${style}><${p}v>${cell.value}</${p}v></${p}c>`;
    }
    // Labels repeat: escape each once (the cache is bounded for columns of distinct texts).
    let text = this.escaped.get(cell.value);
    if (text === undefined) {
      text = escapeCellText(cell.value);
      if (this.escaped.size < 10_000) this.escaped.set(cell.value, text);
    }
    return (
      `<${p}c r="${letters}${row}"${style} t="inlineStr"><${p}is>` +
      `<${p}t xml:space="preserve">${text}</${p}t></${p}is></${p}c>`
    );
  }

  // --- after the rows ----------------------------------------------------------------------------------

  private patchAutoFilter(): void {
    const ref = this.scanner.attr('ref');
    const headerRow = this.headerRows[0];
    const first = this.plan.columns[0];
    const last = this.plan.columns.at(-1);
    if (!ref || headerRow === undefined || !first || !last) return;
    const widened = widenFilterRef(ref, headerRow, first.index, this.plan.widenAutoFilterTo ?? last.index);
    if (!widened) return;
    this.widenedFilter = { from: ref, to: widened };
    this.replaceTag(withAttribute(this.tagText(), 'ref', widened));
  }

  // --- output ------------------------------------------------------------------------------------------

  /** The current tag as latin1 text (one character per byte), to edit and write back as latin1. */
  private tagText(): string {
    return this.scanner.text.slice(this.scanner.start, this.scanner.end);
  }

  /** The current tag's prefix as text: it was decoded as latin1. */
  private utf8Prefix(): string {
    const prefix = this.scanner.prefix();
    return prefix === '' ? '' : Buffer.from(prefix, 'latin1').toString('utf8');
  }

  private emitUpTo(at: number): void {
    if (at > this.copyFrom) {
      this.out.push(this.bytes.subarray(this.copyFrom, at));
      this.copyFrom = at;
    }
  }

  private insertText(at: number, xml: string): void {
    if (xml === '') return;
    this.emitUpTo(at);
    this.out.push(Buffer.from(xml, 'utf8'));
  }

  /** Replaces the current tag with an edited copy of itself (latin1, as read). */
  private replaceTag(tag: string): void {
    this.emitUpTo(this.scanner.start);
    this.out.push(Buffer.from(tag, 'latin1'));
    this.copyFrom = this.scanner.end;
  }

  /** Replaces the current token with new XML. */
  private replaceToken(xml: string): void {
    this.emitUpTo(this.scanner.start);
    this.out.push(Buffer.from(xml, 'utf8'));
    this.copyFrom = this.scanner.end;
  }
}

function colXml(prefix: string, w: { readonly index: number; readonly width: number }): string {
  return `<${prefix}col min="${w.index}" max="${w.index}" width="${w.width}" customWidth="1"/>`;
}

/** The column of a cell reference (`AB12` → 28), or 0 when it is not one. */
export function columnOfRef(ref: string): number {
  let column = 0;
  let i = 0;
  for (; i < ref.length; i += 1) {
    const c = ref.charCodeAt(i) & ~32; // upper case
    if (c < 65 || c > 90) break;
    column = column * 26 + (c - 64);
  }
  return i === 0 || i > 3 || column > 16_384 ? 0 : column;
}

/** `spans="1:7"` (or several ranges) grown to the new cells' columns. */
function widenSpans(spans: string, cells: readonly PlannedCell[]): string | undefined {
  const first = cells[0]?.column ?? 0;
  const last = cells.at(-1)?.column ?? 0;
  const colon = spans.indexOf(':');
  if (colon !== -1 && spans.indexOf(':', colon + 1) === -1) {
    // The usual single range, without splitting.
    const min = Number(spans.slice(0, colon));
    const max = Number(spans.slice(colon + 1));
    if (!Number.isInteger(min) || !Number.isInteger(max)) return undefined;
    return first >= min && last <= max ? spans : `${Math.min(min, first)}:${Math.max(max, last)}`;
  }
  const numbers = spans
    .split(/[\s:]+/)
    .filter(Boolean)
    .map(Number);
  if (numbers.length === 0 || numbers.some((n) => !Number.isInteger(n))) return undefined;
  return `${Math.min(first, ...numbers)}:${Math.max(last, ...numbers)}`;
}

const RANGE = /^(\$?)([A-Za-z]{1,3})(\$?)(\d+)(?::(\$?)([A-Za-z]{1,3})(\$?)(\d+))?$/;

/** A range (`A1:G12` or `A1`) grown to hold a rectangle; undefined when it cannot be read. */
function unionRef(
  ref: string,
  rect: { top: number; bottom: number; left: number; right: number },
): string | undefined {
  const m = RANGE.exec(ref.trim());
  if (!m) return undefined;
  const left = columnIndex(m[2] ?? '');
  const right = columnIndex(m[6] ?? m[2] ?? '');
  const top = Number(m[4]);
  const bottom = Number(m[8] ?? m[4]);
  if (left === undefined || right === undefined) return undefined;
  const l = Math.min(left, rect.left);
  const r = Math.max(right, rect.right);
  const t = Math.min(top, rect.top);
  const b = Math.min(MAX_ROW, Math.max(bottom, rect.bottom));
  return `${columnLetter(l)}${t}:${columnLetter(r)}${b}`;
}

/**
 * A filter range grown to `lastColumn` when it starts on `headerRow` and ends right before `firstColumn`,
 * keeping its `$` marks (`$A$2:$G$40` → `$A$2:$H$40`); undefined when it does not qualify.
 */
export function widenFilterRef(
  ref: string,
  headerRow: number,
  firstColumn: number,
  lastColumn: number,
): string | undefined {
  const m = RANGE.exec(ref.trim());
  if (!m || m[6] === undefined) return undefined;
  const [, d1 = '', c1 = '', d2 = '', r1 = '', d3 = '', c2 = '', d4 = '', r2 = ''] = m;
  if (Number(r1) !== headerRow || columnIndex(c2) !== firstColumn - 1) return undefined;
  return `${d1}${c1.toUpperCase()}${d2}${r1}:${d3}${columnLetter(lastColumn)}${d4}${r2}`;
}
