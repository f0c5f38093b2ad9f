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
 * The parser methods used (`_parseRels`, `_parseWorkbook`, `_parseSharedStrings`, `_parseStyles`,
 * `_parseWorksheet`) are internal to exceljs; the version is pinned and the tests cover them.
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';

import ExcelJS from 'exceljs';
import type { Row } from 'exceljs';

import { InvalidWorkbookError } from '../domain/errors.js';
import type { ZipDirectory, ZipEntry } from './zip.js';
import { openEntry } from './zip.js';

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
  _parseRels(entry: Readable): Promise<void>;
  _parseWorkbook(entry: Readable): Promise<void>;
  _parseSharedStrings(entry: Readable): AsyncGenerator<unknown>;
  _parseStyles(entry: Readable): Promise<void>;
  _parseWorksheet(
    iterator: AsyncIterable<Buffer>,
    sheetNo: string,
  ): Generator<{ eventType: string; value: AsyncIterable<Row> }>;
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
  const open = (entry: ZipEntry) => openEntry(path, entry, displayName);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
  }) as unknown as PartParsers;

  const workbookPart = entries.get(WORKBOOK_PART);
  if (!workbookPart) {
    throw new InvalidWorkbookError(displayName, `it has no workbook part (${WORKBOOK_PART})`);
  }
  const relsPart = entries.get(WORKBOOK_RELS_PART);
  if (!relsPart) {
    throw new InvalidWorkbookError(displayName, `it has no workbook relationships (${WORKBOOK_RELS_PART})`);
  }
  await reader._parseRels(open(relsPart));
  await reader._parseWorkbook(open(workbookPart));

  const rels = reader.workbookRels ?? [];
  const partOf = (type: string) => {
    const rel = rels.find((r) => isType(r, type));
    return rel ? entries.get(partPath(rel.Target)) : undefined;
  };
  const sharedStrings = partOf('sharedStrings');
  if (sharedStrings) {
    for await (const _ of reader._parseSharedStrings(open(sharedStrings))) {
      // With `sharedStrings: 'cache'` this yields nothing: running it fills the reader's cache.
    }
  }
  const styles = partOf('styles');
  if (styles) await reader._parseStyles(open(styles));

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
      const parsed = reader._parseWorksheet(open(entry), String(sheet.index)).next();
      if (parsed.done) throw new Error('exceljs yielded no worksheet reader');
      return parsed.value.value;
    },
  };
}

/** By the type's last segment: Strict Open XML files use another namespace for the same types. */
function isType(rel: Relationship, type: string): boolean {
  return rel.Type.endsWith(`/${type}`);
}

/** Workbook relationship targets are relative to `xl/` unless absolute. */
function partPath(target: string): string {
  return target.startsWith('/') ? posix.normalize(target.slice(1)) : posix.normalize(`xl/${target}`);
}
