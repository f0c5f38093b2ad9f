/**
 * Writes new columns into one sheet of an .xlsx and appends report sheets, in one pass over the zip,
 * without loading the workbook: the sheet's XML is patched as it streams (sheet-patch.ts), and every other
 * part is copied as its stored bytes.
 *
 * Rewritten: the patched sheet part; when sheets are added, the workbook part (new `<sheet>` entries),
 * its relationships, `[Content_Types].xml` and the styles part (a bold font, a `0.0%` number format and two
 * cell formats appended); the workbook part also when the sheet's filter is widened (its hidden
 * `_xlnm._FilterDatabase` name follows the filter). Each is edited in place, so even in those parts every
 * byte outside the edits stays. Everything else — other sheets, shared strings, drawings, comments, tables,
 * docProps (app.xml keeps its old sheet list: Excel reads the sheets from the workbook part and rewrites
 * app.xml on save) — is copied compressed, local header and all.
 *
 * Cells a value replaces: a formula's entry in the calculation chain (xl/calcChain.xml) would make Excel
 * offer to repair the file, so a chain listing formulas where values may go is left out, and Excel rebuilds
 * it (`calcChainToRemove`). A shared string whose cell is replaced stays in the shared strings, copied as
 * stored: a string nobody uses is valid (Excel drops it on its next save), and the table's `count` of uses,
 * then one too high per such cell, is an optional, informative attribute (openpyxl never writes it).
 */
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { crc32 } from 'node:zlib';

import { columnLetter } from '../domain/columns.js';
import { InvalidSettingError, InvalidWorkbookError, SheetNotFoundError } from '../domain/errors.js';
import type { ReportRow } from '../domain/report.js';
import { writeAtomically } from '../lib/atomic-write.js';
import { assertFile } from './files.js';
import { reportColumnWidths, reportFormats, reportSheetName } from './report-sheets.js';
import type { PatchColumn, RowRange, SheetPatchPlan } from './sheet-patch.js';
import { SheetPatcher, columnOfRef, widenFilterRef } from './sheet-patch.js';
import type { XmlElement } from './xml-scan.js';
import {
  XmlSyntaxError,
  attributes,
  childrenOf,
  decodeXml,
  escapeCellText,
  escapeXml,
  outline,
  withAttribute,
} from './xml-scan.js';
import type { ZipRecord } from './zip-records.js';
import { readZipRecords } from './zip-records.js';
import { ZipEntryTooLargeError, ZipWriter } from './zip-write.js';
import type { ZipEntry } from './zip.js';
import { DEFAULT_MAX_UNPACKED_BYTES, inspectXlsx, openEntry } from './zip.js';

export type { PatchColumn, RowRange } from './sheet-patch.js';

export interface ReportSheet {
  /** Wanted name; made unique against the workbook's sheets like `reportSheetName` does. */
  readonly name: string;
  readonly rows: readonly ReportRow[];
}

export interface PatchWorkbookInput {
  readonly inputPath: string;
  /** The user's file name: every error message names it. */
  readonly displayName: string;
  /** Where the .xlsx goes; replaced atomically. */
  readonly outPath: string;
  /** The sheet to patch, by name (exact, else case-insensitive). */
  readonly sheet: string;
  /** The new (or refilled) columns, sorted by index. */
  readonly columns: readonly PatchColumn[];
  /** The rows whose values are asked for (see `PatchColumn.value`). */
  readonly rows: RowRange;
  /**
   * Grow the sheet's autoFilter when it ends right before the first new column on the header row: over every
   * new column (`true`), or up to `toColumn`.
   */
  readonly widenAutoFilter?: boolean | { readonly toColumn: number } | undefined;
  /** Sheets appended after the last one, formatted as report-sheets.ts formats them. */
  readonly addSheets?: readonly ReportSheet[] | undefined;
  readonly maxUnpackedBytes?: number | undefined;
}

export interface PatchedWorkbook {
  readonly path: string;
  /** Rows that got at least one value. */
  readonly rowsPatched: number;
  /** The zip entry of the patched sheet. */
  readonly sheetPart: string;
  /** The names the added sheets got, in order. */
  readonly addedSheets: readonly string[];
  /**
   * Formula cells a value replaced: when not 0 and the workbook has a calculation chain
   * (xl/calcChain.xml, copied as it is), Excel offers to repair the file on opening, and rebuilds the chain.
   */
  readonly formulasReplaced: number;
  /**
   * The workbook's calculation chain (xl/calcChain.xml) listed formula cells of the new columns, which a value
   * may replace, so it was left out (with its relationship and content type): Excel rebuilds it on opening.
   */
  readonly calcChainRemoved: boolean;
}

const MAX_ROW = 1_048_576;
const MAX_COLUMN = 16_384;
/** Workbook, relationships, content types and styles parts are read whole; real ones are far smaller. */
const MAX_SMALL_PART = 64 * 2 ** 20;
/** Chunks handed to the patcher: large enough that per-chunk work vanishes, small enough to not matter. */
const PATCH_CHUNK = 256 * 1024;

const WORKSHEET_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml';
const STYLES_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml';
const TRANSITIONAL_MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const TRANSITIONAL_RELS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const STRICT_MAIN = 'http://purl.oclc.org/ooxml/spreadsheetml/main';
const STRICT_RELS = 'http://purl.oclc.org/ooxml/officeDocument/relationships';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

export async function patchWorkbook(input: PatchWorkbookInput): Promise<PatchedWorkbook> {
  const { inputPath, displayName } = input;
  const plan = checkedPlan(input);
  const maxUnpacked = input.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED_BYTES;
  await assertFile(inputPath, displayName);
  const directory = await inspectXlsx(inputPath, displayName, maxUnpacked);
  const { records, comment } = await readZipRecords(inputPath, displayName, directory);
  const pkg = new Package(inputPath, displayName, directory.entries, records);

  const workbook = await pkg.workbook();
  const target = findSheet(workbook, input.sheet, displayName);
  const sheetPart = pkg.resolve(workbook.dir, target.rel.target);
  const sheetRecord = pkg.record(sheetPart);
  if (!sheetRecord || !target.rel.type.endsWith('/worksheet')) {
    throw new InvalidWorkbookError(
      displayName,
      `sheet ${JSON.stringify(target.name)} is a chart sheet or has no cells part`,
    );
  }
  pkg.assertReadable(sheetRecord);

  // Everything but the sheet is decided before writing, so the parts can go out in their order.
  const replaced = new Map<string, Buffer>();
  const calcChain = await calcChainToRemove(pkg, workbook, target, plan);
  const added: Array<{ name: string; data: Buffer }> = [];
  let workbookXml = workbook.xml;
  const headerRow = Math.min(...plan.columns.flatMap((c) => (c.header ? [c.header.row] : [])));
  if (plan.widenAutoFilter && Number.isFinite(headerRow) && plan.columns.length > 0) {
    workbookXml = widenFilterDatabase(workbook, target, plan, headerRow);
  }
  const addedSheets = await addReportSheets(
    pkg,
    workbook,
    target,
    input.addSheets ?? [],
    replaced,
    added,
    (xml) => {
      workbookXml = xml(workbookXml);
    },
  );
  if (workbookXml !== workbook.xml) replaced.set(workbook.part, Buffer.from(workbookXml, 'utf8'));
  if (calcChain) await removePart(pkg, workbook, calcChain, replaced);

  const workbookRecord = pkg.record(workbook.part);
  const stamp = { time: workbookRecord?.time ?? 0, date: workbookRecord?.date ?? 0x21 };
  const fail = (reason: string) => new InvalidWorkbookError(displayName, reason);
  let rowsPatched = 0;
  let formulasReplaced = 0;

  await writeAtomically(input.outPath, async (tempPath) => {
    const zip = await ZipWriter.create(tempPath);
    const source = await open(inputPath, 'r');
    try {
      for (const record of records) {
        const content = replaced.get(record.name);
        if (record === calcChain) continue;
        if (record === sheetRecord) {
          const patcher = new SheetPatcher(plan, (reason) => fail(`its part ${sheetPart} ${reason}`));
          const entry = pkg.entry(record);
          const large = entry.uncompressedSize >= 2 ** 30 || estimatedGrowth(plan) >= 2 ** 31;
          await zip.addStream(
            entryMeta(record),
            patchedChunks(pkg, entry, record, patcher, maxUnpacked),
            large,
          );
          rowsPatched = patcher.rowsPatched;
          formulasReplaced = patcher.formulasReplaced;
        } else if (content) {
          await zip.addBuffer(entryMeta(record), content);
        } else {
          await zip.copy(source, record, fail);
        }
      }
      for (const part of added) await zip.addBuffer({ name: part.name, ...stamp }, part.data);
      await zip.finish(comment);
    } catch (error) {
      await zip.abort();
      if (error instanceof ZipEntryTooLargeError) {
        throw fail(`the patched sheet ${sheetPart} would pass 4 GiB unpacked`);
      }
      throw error;
    } finally {
      await source.close();
    }
  });
  return {
    path: input.outPath,
    rowsPatched,
    sheetPart,
    addedSheets,
    formulasReplaced,
    calcChainRemoved: calcChain !== undefined,
  };
}

function checkedPlan(input: PatchWorkbookInput): SheetPatchPlan {
  let previous = 0;
  for (const column of input.columns) {
    const { index, width, header } = column;
    if (!Number.isInteger(index) || index <= previous || index > MAX_COLUMN) {
      throw new InvalidSettingError(
        'columns',
        index,
        'must be column numbers 1–16384 in ascending order, each once',
      );
    }
    previous = index;
    if (width !== undefined && !(Number.isFinite(width) && width > 0 && width <= 255)) {
      throw new InvalidSettingError(
        'columns.width',
        width,
        'must be a width in characters, above 0 and at most 255',
      );
    }
    if (header && !(Number.isInteger(header.row) && header.row >= 1 && header.row <= MAX_ROW)) {
      throw new InvalidSettingError('columns.header.row', header.row, 'must be a row number 1–1048576');
    }
  }
  const { from, to } = input.rows;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1) {
    throw new InvalidSettingError('rows', input.rows, 'must be whole row numbers from 1');
  }
  const widen = input.widenAutoFilter ?? false;
  const widenTo = typeof widen === 'object' ? widen.toColumn : undefined;
  const firstColumn = input.columns[0]?.index ?? 1;
  if (
    widenTo !== undefined &&
    (!Number.isInteger(widenTo) || widenTo < firstColumn || widenTo > MAX_COLUMN)
  ) {
    throw new InvalidSettingError(
      'widenAutoFilter.toColumn',
      widenTo,
      'must be a column number from the first new column to 16384',
    );
  }
  return {
    columns: input.columns,
    rows: { from, to: Math.min(to, MAX_ROW) },
    widenAutoFilter: widen !== false,
    widenAutoFilterTo: widenTo,
  };
}

/** A bound on the bytes the patch may add: rows × columns × a long cell's XML. */
function estimatedGrowth(plan: SheetPatchPlan): number {
  return Math.max(0, plan.rows.to - plan.rows.from + 1) * plan.columns.length * 256;
}

function entryMeta(record: ZipRecord) {
  return {
    name: record.name,
    time: record.time,
    date: record.date,
    versionMadeBy: record.versionMadeBy,
    externalAttributes: record.externalAttributes,
    internalAttributes: record.internalAttributes,
    comment: record.comment,
  };
}

/** The sheet part unpacked, checked against its CRC and the unpacking limit, and patched, as a stream. */
async function* patchedChunks(
  pkg: Package,
  entry: ZipEntry,
  record: ZipRecord,
  patcher: SheetPatcher,
  maxUnpacked: number,
): AsyncGenerator<Buffer> {
  let crc = 0;
  let size = 0;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  for await (const chunk of openEntry(pkg.path, entry, pkg.displayName) as AsyncIterable<Buffer>) {
    crc = crc32(chunk, crc);
    size += chunk.length;
    if (size > maxUnpacked) throw pkg.fail(`its part ${record.name} unpacks to more than the limit`);
    batch.push(chunk);
    batchBytes += chunk.length;
    if (batchBytes >= PATCH_CHUNK) {
      const out = patcher.push(batch.length === 1 ? chunk : Buffer.concat(batch));
      batch = [];
      batchBytes = 0;
      if (out.length > 0) yield out;
    }
  }
  if (batchBytes > 0) {
    const out = patcher.push(Buffer.concat(batch));
    if (out.length > 0) yield out;
  }
  if (crc !== record.crc || size !== record.uncompressedSize) {
    throw pkg.fail(`its part ${record.name} is damaged (its CRC or size does not match its zip directory)`);
  }
  const tail = patcher.end();
  if (tail.length > 0) yield tail;
}

// --- the package: parts, relationships, the workbook --------------------------------------------------

interface Relationship {
  readonly id: string;
  readonly type: string;
  readonly target: string;
  readonly external: boolean;
}

interface Relationships {
  readonly part: string;
  readonly xml: string;
  readonly elements: XmlElement[];
  readonly root: XmlElement;
  readonly list: readonly Relationship[];
}

interface WorkbookSheet {
  readonly name: string;
  readonly sheetId: number;
  readonly rel: Relationship;
  /** 0-based position in `<sheets>`, as `localSheetId` counts. */
  readonly position: number;
}

interface Workbook {
  readonly part: string;
  /** The folder the workbook's relationship targets are relative to. */
  readonly dir: string;
  readonly xml: string;
  readonly elements: XmlElement[];
  readonly root: XmlElement;
  readonly sheetsElement: XmlElement;
  readonly sheets: readonly WorkbookSheet[];
  readonly rels: Relationships;
}

class Package {
  private readonly byName = new Map<string, ZipRecord>();
  private readonly entries: Map<string, ZipEntry>;

  constructor(
    readonly path: string,
    readonly displayName: string,
    entries: readonly ZipEntry[],
    records: readonly ZipRecord[],
  ) {
    for (const record of records) {
      if (this.byName.has(record.name)) throw this.fail(`its zip lists the part ${record.name} twice`);
      this.byName.set(record.name, record);
    }
    this.entries = new Map(entries.map((e) => [e.name, e]));
  }

  fail(reason: string): InvalidWorkbookError {
    return new InvalidWorkbookError(this.displayName, reason);
  }

  /** A part by name: exactly, else ignoring case (OPC part names are case-insensitive). */
  record(name: string): ZipRecord | undefined {
    const exact = this.byName.get(name);
    if (exact) return exact;
    const lower = name.toLowerCase();
    for (const [key, record] of this.byName) if (key.toLowerCase() === lower) return record;
    return undefined;
  }

  has(name: string): boolean {
    return this.record(name) !== undefined;
  }

  entry(record: ZipRecord): ZipEntry {
    const entry = this.entries.get(record.name);
    if (!entry) throw this.fail(`its zip directory changed while it was being read`);
    return entry;
  }

  assertReadable(record: ZipRecord): void {
    if (record.flags & 1) throw this.fail(`its part ${record.name} is encrypted`);
  }

  /** A small part as text, whole. */
  async text(name: string): Promise<{ part: string; xml: string } | undefined> {
    const record = this.record(name);
    if (!record) return undefined;
    this.assertReadable(record);
    if (record.uncompressedSize > MAX_SMALL_PART) {
      throw this.fail(`its part ${record.name} is larger than ${MAX_SMALL_PART / 2 ** 20} MiB`);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of openEntry(
      this.path,
      this.entry(record),
      this.displayName,
    ) as AsyncIterable<Buffer>) {
      chunks.push(chunk);
    }
    return { part: record.name, xml: Buffer.concat(chunks).toString('utf8') };
  }

  /** A relationship target as a part name: relative to `dir`, or absolute from the package root. */
  resolve(dir: string, target: string): string {
    let decoded = target;
    try {
      decoded = decodeURIComponent(target);
    } catch {
      // Not percent-encoded after all: use it as it is.
    }
    const path = decoded.startsWith('/') ? decoded : posix.join('/', dir, decoded);
    const name = posix.normalize(path).replace(/^\/+/, '');
    return this.record(name)?.name ?? name;
  }

  async relationships(part: string): Promise<Relationships> {
    const name = posix.join(posix.dirname(part), '_rels', `${posix.basename(part)}.rels`);
    const found = await this.text(name);
    if (!found) throw this.fail(`it has no relationships part for ${part} (${name})`);
    const elements = this.outline(found.part, found.xml);
    const root = elements[0];
    if (!root) throw this.fail(`its part ${found.part} is empty`);
    const list = childrenOf(elements, root, 'Relationship').map((e) => {
      const attrs = attributes(e.tag);
      return {
        id: decodeXml(attrs.get('Id') ?? ''),
        type: decodeXml(attrs.get('Type') ?? ''),
        target: decodeXml(attrs.get('Target') ?? ''),
        external: attrs.get('TargetMode') === 'External',
      };
    });
    return { part: found.part, xml: found.xml, elements, root, list };
  }

  async workbook(): Promise<Workbook> {
    const root = await this.relationships('');
    const office = root.list.find((r) => r.type.endsWith('/officeDocument') && !r.external);
    const part = office ? this.resolve('', office.target) : 'xl/workbook.xml';
    const found = await this.text(part);
    if (!found) throw this.fail(`it has no workbook part (${part})`);
    const elements = this.outline(found.part, found.xml);
    const workbookRoot = elements[0];
    const sheetsElement = workbookRoot && childrenOf(elements, workbookRoot, 'sheets')[0];
    if (!workbookRoot || !sheetsElement) throw this.fail('its workbook part lists no sheets');
    const rels = await this.relationships(found.part);
    const byId = new Map(rels.list.map((r) => [r.id, r]));
    const sheets = childrenOf(elements, sheetsElement, 'sheet').map((e, position) => {
      const attrs = attributes(e.tag);
      const rid = [...attrs].find(([name]) => name.endsWith(':id'))?.[1] ?? '';
      const rel = byId.get(decodeXml(rid));
      if (!rel) throw this.fail(`its workbook part names a sheet without a relationship (${rid})`);
      return {
        name: decodeXml(attrs.get('name') ?? ''),
        sheetId: Number(attrs.get('sheetId')),
        rel,
        position,
      };
    });
    return {
      part: found.part,
      dir: posix.dirname(found.part),
      xml: found.xml,
      elements,
      root: workbookRoot,
      sheetsElement,
      sheets,
      rels,
    };
  }

  outline(part: string, xml: string): XmlElement[] {
    try {
      return outline(xml);
    } catch (error) {
      if (error instanceof XmlSyntaxError)
        throw this.fail(`its part ${part} is not well-formed XML: ${error.message}`);
      throw error;
    }
  }
}

function findSheet(workbook: Workbook, wanted: string, displayName: string): WorkbookSheet {
  const found =
    workbook.sheets.find((s) => s.name === wanted) ??
    workbook.sheets.find((s) => s.name.toLowerCase() === wanted.toLowerCase());
  if (!found) {
    throw new SheetNotFoundError(
      displayName,
      wanted,
      workbook.sheets.map((s) => s.name),
    );
  }
  return found;
}

/** The workbook part with the sheet's `_xlnm._FilterDatabase` name widened as the patcher widens its filter. */
function widenFilterDatabase(
  workbook: Workbook,
  target: WorkbookSheet,
  plan: SheetPatchPlan,
  headerRow: number,
): string {
  const { xml, elements } = workbook;
  const first = plan.columns[0];
  const last = plan.columns.at(-1);
  if (!first || !last) return xml;
  const name = elements.find((e) => {
    if (e.local !== 'definedName' || e.empty) return false;
    const attrs = attributes(e.tag);
    return (
      attrs.get('name') === '_xlnm._FilterDatabase' && Number(attrs.get('localSheetId')) === target.position
    );
  });
  if (!name) return xml;
  const text = xml.slice(name.tagEnd, name.closeStart);
  const bang = text.lastIndexOf('!');
  const widened =
    bang === -1
      ? undefined
      : widenFilterRef(text.slice(bang + 1), headerRow, first.index, plan.widenAutoFilterTo ?? last.index);
  if (!widened) return xml;
  return xml.slice(0, name.tagEnd) + text.slice(0, bang + 1) + widened + xml.slice(name.closeStart);
}

// --- the calculation chain ------------------------------------------------------------------------------

/**
 * The calculation chain, when it lists formula cells of the new columns in the rows that may get values: a
 * value written there replaces the formula, and Excel offers to repair a chain that names a cell holding no
 * formula. The chain is a cache of the order Excel calculates in, so it is left out rather than edited, and
 * Excel rebuilds it on opening (as it does for the files of tools that never write one, openpyxl's among
 * them). Editing it would mean carrying each dropped entry's sheet (`i`) and level (`l`) over to the next
 * one, which states them only when they change, and it could not leave a chain empty. The placement rules
 * put new columns past every formula, so this happens only when a coded file's own columns are refilled.
 */
async function calcChainToRemove(
  pkg: Package,
  workbook: Workbook,
  target: WorkbookSheet,
  plan: SheetPatchPlan,
): Promise<ZipRecord | undefined> {
  const rel = workbook.rels.list.find((r) => r.type.endsWith('/calcChain') && !r.external);
  if (!rel || plan.columns.length === 0 || plan.rows.to < plan.rows.from) return undefined;
  const record = pkg.record(pkg.resolve(workbook.dir, rel.target));
  if (!record) return undefined;
  // Too large to look through as a whole: leaving it out is always safe.
  if (record.uncompressedSize > MAX_SMALL_PART) return record;
  const chain = await pkg.text(record.name);
  if (!chain) return undefined;
  const columns = new Set(plan.columns.map((c) => c.index));
  const sheetId = String(target.sheetId);
  // `i` (the sheet's id) is stated on an entry only when it differs from the entry before.
  let sheet: string | undefined;
  for (const [tag] of chain.xml.matchAll(/<(?:[\w.-]+:)?c(?=[\s/>])[^>]*>/g)) {
    const attrs = attributes(tag);
    sheet = attrs.get('i') ?? sheet;
    if (sheet !== sheetId) continue;
    const ref = (attrs.get('r') ?? '').replaceAll('$', '');
    const row = Number(/\d+$/.exec(ref)?.[0]);
    if (columns.has(columnOfRef(ref)) && row >= plan.rows.from && row <= plan.rows.to) return record;
  }
  return undefined;
}

/** Leaves a part out of the package: its relationship from the workbook and its content type go too. */
async function removePart(
  pkg: Package,
  workbook: Workbook,
  record: ZipRecord,
  replaced: Map<string, Buffer>,
): Promise<void> {
  const rels = workbook.rels;
  const relsXml = replaced.get(rels.part)?.toString('utf8') ?? rels.xml;
  replaced.set(
    rels.part,
    Buffer.from(
      withoutElements(pkg, rels.part, relsXml, 'Relationship', (attrs) => {
        const target = decodeXml(attrs.get('Target') ?? '');
        return attrs.get('TargetMode') !== 'External' && pkg.resolve(workbook.dir, target) === record.name;
      }),
      'utf8',
    ),
  );
  const types = replaced.has('[Content_Types].xml')
    ? { part: '[Content_Types].xml', xml: replaced.get('[Content_Types].xml')?.toString('utf8') ?? '' }
    : await pkg.text('[Content_Types].xml');
  if (!types) return;
  const name = `/${record.name}`.toLowerCase();
  replaced.set(
    types.part,
    Buffer.from(
      withoutElements(
        pkg,
        types.part,
        types.xml,
        'Override',
        (attrs) => decodeXml(attrs.get('PartName') ?? '').toLowerCase() === name,
      ),
      'utf8',
    ),
  );
}

/** The part's text without the root's children named `local` that `drop` picks. */
function withoutElements(
  pkg: Package,
  part: string,
  xml: string,
  local: string,
  drop: (attrs: Map<string, string>) => boolean,
): string {
  const elements = pkg.outline(part, xml);
  const root = elements[0];
  if (!root) return xml;
  let out = xml;
  for (const e of childrenOf(elements, root, local).reverse()) {
    if (drop(attributes(e.tag))) out = out.slice(0, e.start) + out.slice(e.end);
  }
  return out;
}

// --- report sheets --------------------------------------------------------------------------------------

async function addReportSheets(
  pkg: Package,
  workbook: Workbook,
  target: WorkbookSheet,
  sheets: readonly ReportSheet[],
  replaced: Map<string, Buffer>,
  added: Array<{ name: string; data: Buffer }>,
  editWorkbook: (edit: (xml: string) => string) => void,
): Promise<string[]> {
  if (sheets.length === 0) return [];
  for (const sheet of sheets) checkSheetName(sheet.name);
  const strict = namespaceOf(workbook.root) === STRICT_MAIN;
  const mainNs = strict ? STRICT_MAIN : TRANSITIONAL_MAIN;
  // New relationships say "worksheet" and "styles" the way the patched sheet's relationship does.
  const relBase = target.rel.type.slice(0, target.rel.type.lastIndexOf('/') + 1);

  const styles = await stylesFor(pkg, workbook, mainNs, relBase);
  const names: string[] = [];
  const taken = workbook.sheets.map((s) => s.name);
  const usedIds = new Set(workbook.rels.list.map((r) => r.id));
  let nextRel = 1;
  const newRelId = () => {
    while (usedIds.has(`rId${nextRel}`)) nextRel += 1;
    usedIds.add(`rId${nextRel}`);
    return `rId${nextRel}`;
  };
  let sheetId = Math.max(0, ...workbook.sheets.map((s) => (Number.isFinite(s.sheetId) ? s.sheetId : 0)));
  let partNumber = 1;
  const sheetElements: string[] = [];
  const relElements: string[] = [];
  const overrides: string[] = [];
  const relPrefix = relationshipsPrefix(workbook);
  const relNs = strict ? STRICT_RELS : TRANSITIONAL_RELS;
  const sheetTag = `${workbook.sheetsElement.prefix}sheet`;
  const relTag = `${workbook.rels.root.prefix}Relationship`;

  for (const sheet of sheets) {
    const name = reportSheetName(sheet.name, [...taken, ...names]);
    names.push(name);
    while (pkg.has(posix.join(workbook.dir, 'worksheets', `sheet${partNumber}.xml`))) partNumber += 1;
    const part = posix.join(workbook.dir, 'worksheets', `sheet${partNumber}.xml`);
    partNumber += 1;
    const rid = newRelId();
    sheetId += 1;
    const declare = relPrefix.declared ? '' : ` xmlns:${relPrefix.prefix}="${relNs}"`;
    sheetElements.push(
      `<${sheetTag} name="${escapeXml(name)}" sheetId="${sheetId}"${declare} ${relPrefix.prefix}:id="${rid}"/>`,
    );
    relElements.push(
      `<${relTag} Id="${rid}" Type="${escapeXml(`${relBase}worksheet`)}" Target="${escapeXml(relativeTarget(workbook.dir, part))}"/>`,
    );
    overrides.push(`/${part}|${WORKSHEET_TYPE}`);
    added.push({ name: part, data: Buffer.from(reportSheetXml(sheet.rows, mainNs, styles), 'utf8') });
  }

  if (styles.created) {
    const rid = newRelId();
    relElements.push(
      `<${relTag} Id="${rid}" Type="${escapeXml(`${relBase}styles`)}" Target="${escapeXml(relativeTarget(workbook.dir, styles.part))}"/>`,
    );
    overrides.push(`/${styles.part}|${STYLES_TYPE}`);
    added.push({ name: styles.part, data: Buffer.from(styles.xml, 'utf8') });
  } else {
    replaced.set(styles.part, Buffer.from(styles.xml, 'utf8'));
  }

  const sheetsEnd = workbook.sheetsElement.closeStart;
  editWorkbook((xml) => xml.slice(0, sheetsEnd) + sheetElements.join('') + xml.slice(sheetsEnd));
  const rels = workbook.rels;
  replaced.set(
    rels.part,
    Buffer.from(insertAt(rels.xml, rels.root.closeStart, relElements.join('')), 'utf8'),
  );

  const types = await pkg.text('[Content_Types].xml');
  if (!types) throw pkg.fail('it has no [Content_Types].xml');
  const typesRoot = pkg.outline(types.part, types.xml)[0];
  if (!typesRoot || typesRoot.empty) throw pkg.fail('its [Content_Types].xml is empty');
  const overrideXml = overrides
    .map((o) => {
      const [partName = '', type = ''] = o.split('|');
      return `<${typesRoot.prefix}Override PartName="${escapeXml(partName)}" ContentType="${type}"/>`;
    })
    .join('');
  replaced.set(types.part, Buffer.from(insertAt(types.xml, typesRoot.closeStart, overrideXml), 'utf8'));
  return names;
}

/** Excel's rules for a sheet name; the suffix `reportSheetName` may add keeps to them but for the length. */
function checkSheetName(name: string): void {
  if (name.length === 0 || name.length > 31 || /[[\]:*?/\\]/.test(name) || /^'|'$/.test(name)) {
    throw new InvalidSettingError(
      'addSheets.name',
      name,
      "must be 1–31 characters without [ ] : * ? / \\ and not start or end with '",
    );
  }
}

function namespaceOf(element: XmlElement): string | undefined {
  const attrs = attributes(element.tag);
  const prefix = element.prefix.slice(0, -1);
  return attrs.get(prefix ? `xmlns:${prefix}` : 'xmlns');
}

/** The prefix sheets use for `r:id`, and whether the workbook's root declares it. */
function relationshipsPrefix(workbook: Workbook): { prefix: string; declared: boolean } {
  const rootAttrs = attributes(workbook.root.tag);
  for (const [name, value] of rootAttrs) {
    if (name.startsWith('xmlns:') && (value === TRANSITIONAL_RELS || value === STRICT_RELS)) {
      return { prefix: name.slice('xmlns:'.length), declared: true };
    }
  }
  const sheet = childrenOf(workbook.elements, workbook.sheetsElement, 'sheet')[0];
  const used = sheet
    ? [...attributes(sheet.tag).keys()].find((n) => n.endsWith(':id') && !n.startsWith('xmlns'))
    : undefined;
  return { prefix: used ? used.slice(0, -':id'.length) : 'r', declared: false };
}

function relativeTarget(dir: string, part: string): string {
  return posix.relative(posix.join('/', dir), posix.join('/', part));
}

function insertAt(xml: string, at: number, text: string): string {
  return xml.slice(0, at) + text + xml.slice(at);
}

interface ReportStyles {
  readonly part: string;
  readonly xml: string;
  readonly created: boolean;
  /** cellXfs indexes. */
  readonly bold: number;
  readonly percent: number;
}

/** The styles part with a bold and a `0.0%` cell format appended (or a new styles part holding them). */
async function stylesFor(
  pkg: Package,
  workbook: Workbook,
  mainNs: string,
  relBase: string,
): Promise<ReportStyles> {
  const rel =
    workbook.rels.list.find((r) => r.type === `${relBase}styles`) ??
    workbook.rels.list.find((r) => r.type.endsWith('/styles'));
  const found = rel ? await pkg.text(pkg.resolve(workbook.dir, rel.target)) : undefined;
  if (!found) {
    let n = 0;
    while (pkg.has(posix.join(workbook.dir, n === 0 ? 'styles.xml' : `styles${n}.xml`))) n += 1;
    return {
      part: posix.join(workbook.dir, n === 0 ? 'styles.xml' : `styles${n}.xml`),
      xml: minimalStyles(mainNs),
      created: true,
      bold: 1,
      percent: 2,
    };
  }
  return { ...appendReportStyles(pkg, found.part, found.xml), part: found.part, created: false };
}

function appendReportStyles(
  pkg: Package,
  part: string,
  xml: string,
): { xml: string; bold: number; percent: number } {
  const elements = pkg.outline(part, xml);
  const root = elements[0];
  const fonts = root && childrenOf(elements, root, 'fonts')[0];
  const cellXfs = root && childrenOf(elements, root, 'cellXfs')[0];
  if (!root || !fonts || fonts.empty || !cellXfs || cellXfs.empty) {
    throw pkg.fail(`its styles part ${part} has no fonts or cell formats`);
  }
  const edits: Array<{ at: number; end: number; text: string }> = [];

  // A 0.0% number format: the workbook's own if it has one, else a new custom one (ids 164 and up).
  const numFmts = childrenOf(elements, root, 'numFmts')[0];
  const formats = numFmts ? childrenOf(elements, numFmts, 'numFmt').map((e) => attributes(e.tag)) : [];
  let percentFormat = Number(
    formats.find((a) => decodeXml(a.get('formatCode') ?? '') === '0.0%')?.get('numFmtId'),
  );
  if (!Number.isInteger(percentFormat)) {
    percentFormat =
      Math.max(163, ...formats.map((a) => Number(a.get('numFmtId'))).filter(Number.isInteger)) + 1;
    const p = numFmts?.prefix ?? root.prefix;
    const numFmt = `<${p}numFmt numFmtId="${percentFormat}" formatCode="0.0%"/>`;
    if (!numFmts) {
      edits.push({
        at: root.tagEnd,
        end: root.tagEnd,
        text: `<${p}numFmts count="1">${numFmt}</${p}numFmts>`,
      });
    } else if (numFmts.empty) {
      edits.push({
        at: numFmts.start,
        end: numFmts.end,
        text: `<${p}numFmts count="1">${numFmt}</${p}numFmts>`,
      });
    } else {
      edits.push(countEdit(numFmts, formats.length + 1), {
        at: numFmts.closeStart,
        end: numFmts.closeStart,
        text: numFmt,
      });
    }
  }

  // A bold font: the default cell format's font with <b/> added.
  const xfs = childrenOf(elements, cellXfs, 'xf');
  const base = attributes(xfs[0]?.tag ?? '');
  const fontList = childrenOf(elements, fonts, 'font');
  const baseFontId = Number(base.get('fontId') ?? 0);
  const baseFont = fontList[baseFontId] ?? fontList[0];
  const p = fonts.prefix;
  const boldFont = !baseFont
    ? `<${p}font><${p}b/></${p}font>`
    : baseFont.empty
      ? `${baseFont.tag.slice(0, -2).trimEnd()}><${baseFont.prefix}b/></${baseFont.prefix}font>`
      : xml.slice(baseFont.start, baseFont.tagEnd) +
        `<${baseFont.prefix}b/>` +
        xml.slice(baseFont.tagEnd, baseFont.end);
  edits.push(countEdit(fonts, fontList.length + 1), {
    at: fonts.closeStart,
    end: fonts.closeStart,
    text: boldFont,
  });

  const fill = base.get('fillId') ?? '0';
  const border = base.get('borderId') ?? '0';
  const font = base.get('fontId') ?? '0';
  const x = cellXfs.prefix;
  const newXfs =
    `<${x}xf numFmtId="0" fontId="${fontList.length}" fillId="${fill}" borderId="${border}" xfId="0" applyFont="1"/>` +
    `<${x}xf numFmtId="${percentFormat}" fontId="${font}" fillId="${fill}" borderId="${border}" xfId="0" applyNumberFormat="1"/>`;
  edits.push(countEdit(cellXfs, xfs.length + 2), {
    at: cellXfs.closeStart,
    end: cellXfs.closeStart,
    text: newXfs,
  });

  let out = xml;
  // From the end back, so positions hold; at one position, a tag's replacement before what goes before it.
  for (const edit of edits.sort((a, b) => b.at - a.at || b.end - a.end))
    out = out.slice(0, edit.at) + edit.text + out.slice(edit.end);
  return { xml: out, bold: xfs.length, percent: xfs.length + 1 };
}

/** The element's start tag with `count` set, when it has one (it is optional). */
function countEdit(element: XmlElement, count: number): { at: number; end: number; text: string } {
  const has = attributes(element.tag).has('count');
  return {
    at: element.start,
    end: element.tagEnd,
    text: has ? withAttribute(element.tag, 'count', String(count)) : element.tag,
  };
}

function minimalStyles(ns: string): string {
  return (
    `${XML_DECLARATION}<styleSheet xmlns="${ns}">` +
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="0.0%"/></numFmts>' +
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>' +
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' +
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>' +
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>' +
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
    '</styleSheet>'
  );
}

/** A report sheet's XML: inline strings, numbers, bold block headers and percentages under `%`. */
export function reportSheetXml(
  rows: readonly ReportRow[],
  ns: string,
  styles: { readonly bold: number; readonly percent: number },
): string {
  const formats = reportFormats(rows);
  const widths = reportColumnWidths(rows);
  let lastColumn = 1;
  let data = '';
  rows.forEach((values, i) => {
    const r = i + 1;
    const format = formats[i];
    let cells = '';
    values.forEach((value, j) => {
      if (value === null || value === '') return;
      lastColumn = Math.max(lastColumn, j + 1);
      const style = format?.bold ? styles.bold : format?.percent[j] ? styles.percent : undefined;
      const s = style === undefined ? '' : ` s="${style}"`;
      const ref = `${columnLetter(j + 1)}${r}`;
      cells +=
        typeof value === 'number'
          ? `<c r="${ref}"${s}><v>${Number.isFinite(value) ? value : 0}</v></c>`
          : `<c r="${ref}"${s} t="inlineStr"><is><t xml:space="preserve">${escapeCellText(value)}</t></is></c>`;
    });
    if (cells) data += `<row r="${r}">${cells}</row>`;
  });
  const cols = widths
    .map((w, j) => `<col min="${j + 1}" max="${j + 1}" width="${w}" customWidth="1"/>`)
    .join('');
  const dimension = `A1:${columnLetter(lastColumn)}${Math.max(1, rows.length)}`;
  return (
    `${XML_DECLARATION}<worksheet xmlns="${ns}"><dimension ref="${dimension}"/>` +
    (cols ? `<cols>${cols}</cols>` : '') +
    (data ? `<sheetData>${data}</sheetData>` : '<sheetData/>') +
    '</worksheet>'
  );
}
