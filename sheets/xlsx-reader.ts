/**
 * Streaming reads of an .xlsx: exceljs's own part parsers (those of `stream.xlsx.WorkbookReader`) fed
 * with parts this module opens by the zip's central directory, rather than the reader's one pass over the
 * zip. That pass is not safe to use as it stands (exceljs 4.4):
 *  - It loses parts. unzipper's parser emits 'end' as soon as its input is consumed, while entries it has
 *    already parsed may still wait in its paused output; exceljs's `iterate-stream` then stops. An event
 *    loop busy for ~30 ms at the wrong moment loses every later part: the workbook part (the reader then
 *    throws, or yields no sheet at all), the shared strings (every text cell then reads as empty), a small
 *    last sheet. Reproduced by delaying the parsing of one part by 30 ms; reported as exceljs#3064, #1558.
 *  - Sheets stored before the shared strings (the usual order: Excel and exceljs write those last) are
 *    copied to temp files first, which are deleted only if the reader runs to the end, so stopping early
 *    leaves files and descriptors behind.
 *  - A sheet's name is found only when its relationship target reads exactly `worksheets/sheetN.xml`;
 *    openpyxl (pandas) writes `/xl/worksheets/sheetN.xml`, and those sheets come out as `SheetN`.
 * Opening parts directly, the workbook, relationships, shared strings and styles are parsed before any
 * sheet, one sheet is read without touching the others, and leaving a loop early closes the file.
 * Every part is read as text through `openXmlPart` (whole characters, no DTD). The shared strings and the
 * sheets' rows are parsed by our own parsers (`shared-strings.ts`, `worksheet-rows.ts`: exceljs's lose
 * text and fail on valid files); the exceljs parser methods still used (`_parseRels`, `_parseWorkbook`,
 * `_parseStyles`, and `_parseWorksheet` for the worksheet object rows belong to) are internal to exceljs;
 * the version is pinned and the tests cover them.
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';

import ExcelJS from 'exceljs';
import type { Row, Style } from 'exceljs';

import { InvalidWorkbookError } from '../domain/errors.js';
import type { SharedString } from './shared-strings.js';
import { readSharedStrings } from './shared-strings.js';
import type { WorksheetContext } from './worksheet-rows.js';
import { readWorksheetRows } from './worksheet-rows.js';
import { openXmlPart, xmlPartError } from './xml-part.js';
import type { ZipDirectory, ZipEntry } from './zip.js';

export type SheetState = 'visible' | 'hidden' | 'veryHidden';

export interface SheetInfo {
  readonly name: string;
  /** 1-based position in tab order, hidden sheets included (as Excel counts them). */
  readonly index: number;
  readonly state: SheetState;
  /** The sheet's zip entry (`xl/worksheets/sheet1.xml`), when its relationship resolves. */
  readonly part: string | undefined;
  /** False for chart sheets and other non-grid sheets. */
  readonly isWorksheet: boolean;
}

export interface XlsxWorkbook {
  /** Every sheet in tab order. */
  readonly sheets: readonly SheetInfo[];
  /** The sheet's rows in order, as exceljs parses them (only rows present in the file); single use. */
  rows(sheet: SheetInfo): AsyncIterable<Row>;
}

const WORKBOOK_PART = 'xl/workbook.xml';
const WORKBOOK_RELS_PART = 'xl/_rels/workbook.xml.rels';

// The parts of exceljs's streaming reader its type declarations leave out.
interface Relationship {
  readonly Id: string;
  readonly Type: string;
  readonly Target: string;
}
interface PartParsers {
  readonly model?: { readonly sheets?: ReadonlyArray<{ name: string; state?: string; rId: string }> };
  readonly workbookRels?: readonly Relationship[];
  readonly properties?: { readonly model?: { readonly date1904?: boolean } };
  readonly styles?: { getStyleModel(id: number): Partial<Style> | null };
  _parseRels(entry: Readable): Promise<void>;
  _parseWorkbook(entry: Readable): Promise<void>;
  _parseStyles(entry: Readable): Promise<void>;
  _parseWorksheet(
    iterator: AsyncIterable<never>,
    sheetNo: string,
  ): Generator<{ eventType: string; value: unknown }>;
}

/**
 * Reads the workbook part, its relationships, the shared strings and the styles (styles tell a date from a
 * number; their models are shared per style id, so caching them costs little). Sheets are read on demand.
 */
export async function openXlsx(
  path: string,
  directory: ZipDirectory,
  displayName: string,
): Promise<XlsxWorkbook> {
  const entries = new Map(directory.entries.map((entry) => [entry.name, entry]));
  const open = (entry: ZipEntry) => openXmlPart(path, entry, displayName);
  // A parser's failure names the part it was reading.
  const parse = async <T>(entry: ZipEntry, run: (text: Readable) => Promise<T>): Promise<T> => {
    try {
      return await run(open(entry));
    } catch (error) {
      throw xmlPartError(error, entry.name, displayName);
    }
  };
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
  }) as unknown as PartParsers;

  const workbookPart = entries.get(WORKBOOK_PART);
  if (!workbookPart) throw new InvalidWorkbookError(displayName, noWorkbookPart(entries));
  const relsPart = entries.get(WORKBOOK_RELS_PART);
  if (!relsPart) {
    throw new InvalidWorkbookError(displayName, `it has no workbook relationships (${WORKBOOK_RELS_PART})`);
  }
  await parse(relsPart, (text) => reader._parseRels(text));
  await parse(workbookPart, (text) => reader._parseWorkbook(text));

  const rels = reader.workbookRels ?? [];
  const partOf = (type: string) => {
    const rel = rels.find((r) => isType(r, type));
    return rel ? entries.get(partPath(rel.Target)) : undefined;
  };
  const sharedPart = partOf('sharedStrings');
  const sharedStrings: SharedString[] = sharedPart
    ? await parse(sharedPart, (text) => readSharedStrings(text, sharedPart.name, displayName))
    : [];
  const stylesPart = partOf('styles');
  if (stylesPart) await parse(stylesPart, (text) => reader._parseStyles(text));

  const byId = new Map(rels.map((rel) => [rel.Id, rel]));
  const sheets = (reader.model?.sheets ?? []).map((sheet, i): SheetInfo => {
    const rel = byId.get(sheet.rId);
    return {
      name: sheet.name,
      index: i + 1,
      state: sheet.state === 'hidden' || sheet.state === 'veryHidden' ? sheet.state : 'visible',
      part: rel ? partPath(rel.Target) : undefined,
      isWorksheet: rel !== undefined && isType(rel, 'worksheet'),
    };
  });
  if (sheets.length === 0) throw new InvalidWorkbookError(displayName, 'its workbook part lists no sheets');

  return {
    sheets,
    rows(sheet) {
      const entry = sheet.isWorksheet && sheet.part ? entries.get(sheet.part) : undefined;
      if (!entry) {
        throw new InvalidWorkbookError(
          displayName,
          `sheet ${JSON.stringify(sheet.name)} is a chart sheet or has no cells part`,
        );
      }
      // exceljs's worksheet reader, never started: the rows' columns hang off it.
      const parsed = reader._parseWorksheet(NO_CHUNKS, String(sheet.index)).next();
      if (parsed.done) throw new Error('exceljs yielded no worksheet reader');
      return sheetRows(open(entry), {
        worksheet: parsed.value.value,
        sharedStrings,
        styles: reader.styles,
        date1904: reader.properties?.model?.date1904 === true,
        part: entry.name,
        displayName,
      });
    },
  };
}

const NO_CHUNKS: AsyncIterable<never> = {
  [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(DONE) }),
};
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

async function* sheetRows(text: Readable, context: WorksheetContext): AsyncGenerator<Row> {
  try {
    yield* readWorksheetRows(text as AsyncIterable<string>, context);
  } catch (error) {
    throw xmlPartError(error, context.part, context.displayName);
  } finally {
    text.destroy();
  }
}

/** Why a zip without `xl/workbook.xml` is not a workbook, naming what it is when that is plain. */
function noWorkbookPart(entries: ReadonlyMap<string, ZipEntry>): string {
  if (entries.has('word/document.xml')) return 'it is a Word document (.docx), not a workbook';
  if (entries.has('ppt/presentation.xml')) return 'it is a PowerPoint presentation (.pptx), not a workbook';
  if (entries.has('mimetype') && entries.has('content.xml')) {
    return 'it is an OpenDocument file (.ods, LibreOffice), not an .xlsx workbook: save it as .xlsx';
  }
  return `it is a zip, but not a workbook: it has no workbook part (${WORKBOOK_PART})`;
}

/** By the type's last segment: Strict Open XML files use another namespace for the same types. */
function isType(rel: Relationship, type: string): boolean {
  return rel.Type.endsWith(`/${type}`);
}

/** Workbook relationship targets are relative to `xl/` unless absolute. */
function partPath(target: string): string {
  return target.startsWith('/') ? posix.normalize(target.slice(1)) : posix.normalize(`xl/${target}`);
}
