/** Fixtures for the sheet I/O tests: workbooks built with exceljs, CSV text, and hand-made zips. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';

import ExcelJS from 'exceljs';
import type { CellValue } from 'exceljs';

import { readZipDirectory } from '../../sheets/zip.js';

export interface TempDir {
  readonly path: string;
  file(name: string): string;
  remove(): Promise<void>;
}

export async function tempDir(): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), 'verbatim-sheets-'));
  return { path, file: (name) => join(path, name), remove: () => rm(path, { recursive: true, force: true }) };
}

export async function saveWorkbook(workbook: ExcelJS.Workbook, path: string): Promise<string> {
  await workbook.xlsx.writeFile(path);
  return path;
}

export async function loadWorkbook(path: string): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(path);
  return workbook;
}

/** Every row's values (empty cells left out), keyed by row number, with the given columns dropped. */
export function rowValues(
  sheet: ExcelJS.Worksheet,
  dropColumns: readonly number[] = [],
): Map<number, unknown[]> {
  const rows = new Map<number, unknown[]>();
  sheet.eachRow((row, number) => {
    const values: unknown[] = [];
    row.eachCell((cell, column) => {
      if (!dropColumns.includes(column)) values[column] = normalizeValue(cell.value);
    });
    if (values.length > 0) rows.set(number, values);
  });
  return rows;
}

/** Hyperlink and formula values compare by content; exceljs adds bookkeeping fields on reading. */
function normalizeValue(value: CellValue): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object' && 'formula' in value)
    return { formula: value.formula, result: value.result };
  return value;
}

/**
 * The "Responses" sheet of the survey fixture, answers in column D (`E2`): a title row, the code row, the
 * question row, then data rows holding every kind of value a cell can hold.
 */
export const SURVEY = {
  titleRow: 1,
  headerRow: 3,
  questionRow: 4,
  question: 'What is the main reason for your score?',
  answers: new Map<number, string>([
    [5, 'The staff were friendly'],
    [6, 'Rich text answer'],
    [7, 'Visit our site'],
    [8, 'FORMULA RESULT'],
    [9, '#N/A'],
    [10, '#N/A'],
    [11, '42'],
    [12, '2024-03-05'],
    [13, 'TRUE'],
    [14, ''],
    [16, 'Too slow: 0.3 s'],
  ]),
} as const;

export function surveyWorkbook(): ExcelJS.Workbook {
  const workbook = new ExcelJS.Workbook();
  const intro = workbook.addWorksheet('Intro');
  intro.addRow(['This workbook holds the answers of the 2024 survey.']);

  const sheet = workbook.addWorksheet('Responses');
  sheet.getCell('A1').value = 'Customer survey 2024';
  sheet.addRow([]);
  sheet.getRow(3).values = ['Respondent', 'Date', 'Score', 'E2', 'E3'];
  sheet.getRow(4).values = [
    'Respondent number',
    'Date of interview',
    'How likely are you to recommend us (0-10)?',
    SURVEY.question,
    'Anything else you would like to tell us?',
  ];
  const answers: CellValue[] = [
    'The staff were friendly',
    { richText: [{ text: 'Rich ', font: { bold: true } }, { text: 'text answer' }] },
    { text: 'Visit our site', hyperlink: 'https://example.com/' },
    { formula: 'UPPER("formula result")', result: 'FORMULA RESULT' },
    { formula: 'NA()', result: { error: '#N/A' } },
    { error: '#N/A' },
    42,
    new Date(Date.UTC(2024, 2, 5)),
    true,
    null,
  ];
  answers.forEach((answer, i) => {
    const number = 5 + i;
    const row = sheet.getRow(number);
    row.values = [1000 + i, new Date(Date.UTC(2024, 0, 1 + i)), i % 11, answer, i % 2 ? 'More please' : null];
    row.getCell(2).numFmt = 'yyyy-mm-dd';
    if (answer instanceof Date) row.getCell(4).numFmt = 'yyyy-mm-dd';
  });
  // Row 15 is empty; row 16 follows the gap.
  sheet.getRow(16).values = [1011, new Date(Date.UTC(2024, 0, 12)), 3, 'Too slow: 0.3 s', null];
  sheet.getCell('B16').numFmt = 'yyyy-mm-dd';
  return workbook;
}

/** The same answers with an `E2 category` column in F, coded for some rows. */
export function halfCodedWorkbook(): ExcelJS.Workbook {
  const workbook = surveyWorkbook();
  const sheet = workbook.getWorksheet('Responses');
  if (!sheet) throw new Error('fixture');
  sheet.getCell('F3').value = 'e2 Category';
  sheet.getCell('F5').value = 'Service';
  sheet.getCell('F7').value = 'Other';
  return workbook;
}

export interface ZipInput {
  readonly name: string;
  readonly data: Buffer;
  /** 8 (deflate, the default) or 0 (stored). */
  readonly method?: 0 | 8;
  /** Overrides the uncompressed size the central directory declares. */
  readonly declaredSize?: number;
  /** Zip64 sizes: 0xFFFFFFFF in the header and the real ones in a Zip64 extra field, or (`broken`) nowhere. */
  readonly zip64?: 'extra' | 'broken';
}

/** A minimal zip writer: enough to build archives that lie in the ways the guard must catch. */
export function makeZip(entries: readonly ZipInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const method = entry.method ?? 8;
    const packed = method === 8 ? deflateRawSync(entry.data) : entry.data;
    const name = Buffer.from(entry.name, 'utf8');
    const crc = crc32(entry.data);
    const size = entry.declaredSize ?? entry.data.length;
    const extra = Buffer.alloc(entry.zip64 === 'extra' ? 20 : 0);
    if (entry.zip64 === 'extra') {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(16, 2);
      extra.writeBigUInt64LE(BigInt(size), 4);
      extra.writeBigUInt64LE(BigInt(packed.length), 12);
    }

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, packed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(entry.zip64 ? 0xffffffff : packed.length, 20);
    central.writeUInt32LE(entry.zip64 ? 0xffffffff : size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(extra.length, 30);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name, extra);
    offset += 30 + name.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** The entries of a zip, unpacked, in their order. */
export async function readZip(path: string): Promise<Array<{ name: string; data: Buffer }>> {
  const { entries } = await readZipDirectory(path, path);
  const bytes = await readFile(path);
  return entries.map((entry) => {
    const start =
      entry.localHeaderOffset +
      30 +
      bytes.readUInt16LE(entry.localHeaderOffset + 26) +
      bytes.readUInt16LE(entry.localHeaderOffset + 28);
    const packed = bytes.subarray(start, start + entry.compressedSize);
    return { name: entry.name, data: entry.method === 8 ? inflateRawSync(packed) : Buffer.from(packed) };
  });
}

/** Rewrites an .xlsx: each entry through `edit` (return undefined to keep it), in the order `order` gives. */
export async function rewriteXlsx(
  from: string,
  to: string,
  edit: (name: string, text: string) => string | undefined,
  order?: (names: string[]) => string[],
): Promise<string> {
  const entries = await readZip(from);
  const names = order ? order(entries.map((e) => e.name)) : entries.map((e) => e.name);
  const byName = new Map(entries.map((e) => [e.name, e.data]));
  const rebuilt = names.map((name) => {
    const data = byName.get(name) ?? Buffer.alloc(0);
    const edited = edit(name, data.toString('utf8'));
    return { name, data: edited === undefined ? data : Buffer.from(edited, 'utf8') };
  });
  await writeFile(to, makeZip(rebuilt));
  return to;
}

/**
 * A formatted workbook as an analyst leaves it: a merged title, a styled header, number formats, a frozen
 * pane, column widths, a hyperlink column, a formula (column B) reading a cell to the right of the answer
 * column (C), and a sheet already called "Summary".
 */
export const FORMATTED = {
  sheet: 'Data',
  headerRow: 2,
  answerColumn: 3,
  categoryColumn: 'H',
  rows: 10,
} as const;

export function formattedWorkbook(): ExcelJS.Workbook {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Data', {
    views: [{ state: 'frozen', xSplit: 1, ySplit: 2, topLeftCell: 'B3' }],
  });
  sheet.columns = [
    { width: 8 },
    { width: 12 },
    { width: 40 },
    { width: 25 },
    { width: 9 },
    { width: 10 },
    { width: 30 },
  ];
  sheet.mergeCells('A1:G1');
  const title = sheet.getCell('A1');
  title.value = 'Customer survey — wave 3';
  title.font = { bold: true, size: 14, color: { argb: 'FF1F4E79' } };
  title.alignment = { horizontal: 'center' };

  const header = sheet.getRow(2);
  header.values = ['ID', 'Double score', 'Answer', 'Comment', 'Score', 'Share', 'Link'];
  header.eachCell((cell) => {
    cell.font = { bold: true, color: { argb: 'FFFFFFFF' } };
    cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FF4472C4' } };
    cell.border = { bottom: { style: 'thin', color: { argb: 'FF000000' } } };
  });
  for (let i = 0; i < FORMATTED.rows; i += 1) {
    const r = 3 + i;
    const row = sheet.getRow(r);
    row.values = [
      i + 1,
      { formula: `E${r}*2`, result: (i % 5) * 2 },
      i === 4 ? null : `Answer number ${i + 1}`,
      i % 3 === 0 ? 'follow up' : null,
      i % 5,
      i / 10,
      { text: `Case ${i + 1}`, hyperlink: `https://example.com/case/${i + 1}` },
    ];
    row.getCell(1).numFmt = '000';
    row.getCell(6).numFmt = '0.0%';
    if (i % 2 === 0)
      row.getCell(3).fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFF2CC' } };
  }
  const notes = workbook.addWorksheet('Summary');
  notes.getCell('A1').value = 'Notes by the analyst';
  notes.getCell('A1').font = { italic: true };
  return workbook;
}

/** A larger generated survey for the streaming path: styles, dates, shared formulas, a second sheet. */
export function generatedWorkbook(rows: number): ExcelJS.Workbook {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Responses', { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = [{ width: 10 }, { width: 12 }, { width: 50 }, { width: 8 }];
  sheet.addRow(['Respondent', 'Date', 'E2', 'Twice']).font = { bold: true };
  for (let i = 1; i <= rows; i += 1) {
    const r = i + 1;
    const row = sheet.getRow(r);
    row.getCell(1).value = i;
    row.getCell(2).value = new Date(Date.UTC(2024, i % 12, 1 + (i % 28)));
    row.getCell(2).numFmt = 'yyyy-mm-dd';
    row.getCell(3).value =
      i % 7 === 0 ? null : `answer ${i} about ${['price', 'service', 'delivery'][i % 3] ?? ''}`;
    // A shared formula, as Excel writes a filled-down column (exceljs types lack `shareType` and `ref`).
    const master = { formula: 'A2*2', result: 2, shareType: 'shared', ref: `D2:D${rows + 1}` } as CellValue;
    row.getCell(4).value = i === 1 ? master : { sharedFormula: 'D2', result: i * 2 };
  }
  workbook.addWorksheet('Codes').addRow(['price', 'service', 'delivery']);
  return workbook;
}

/**
 * A minimal OLE compound file (512-byte sectors: header, one FAT sector, one directory sector) whose
 * directory names the given streams after the root: `EncryptionInfo` and `EncryptedPackage` make a
 * password-protected .xlsx, `Workbook` a legacy .xls. The streams themselves are empty.
 */
export function makeCompoundFile(streams: readonly string[]): Buffer {
  if (streams.length > 3) throw new Error('one directory sector holds the root and three streams');
  const sector = 512;
  const header = Buffer.alloc(sector);
  Buffer.from('d0cf11e0a1b11ae1', 'hex').copy(header, 0);
  header.writeUInt16LE(0x3e, 0x18); // minor version
  header.writeUInt16LE(3, 0x1a); // major version: 512-byte sectors
  header.writeUInt16LE(0xfffe, 0x1c); // byte order
  header.writeUInt16LE(9, 0x1e); // sector shift
  header.writeUInt16LE(6, 0x20); // mini sector shift
  header.writeUInt32LE(1, 0x2c); // FAT sectors
  header.writeUInt32LE(1, 0x30); // first directory sector
  header.writeUInt32LE(4096, 0x38); // mini stream cutoff
  header.writeUInt32LE(0xfffffffe, 0x3c); // no mini FAT
  header.writeUInt32LE(0xfffffffe, 0x44); // no DIFAT sectors
  for (let i = 0; i < 109; i += 1) header.writeUInt32LE(i === 0 ? 0 : 0xffffffff, 0x4c + 4 * i);
  const fat = Buffer.alloc(sector, 0xff);
  fat.writeUInt32LE(0xfffffffd, 0); // sector 0 holds the FAT
  fat.writeUInt32LE(0xfffffffe, 4); // sector 1, the directory, ends its chain
  const directory = Buffer.alloc(sector);
  ['Root Entry', ...streams].forEach((name, i) => {
    const p = i * 128;
    const encoded = Buffer.from(`${name}\0`, 'utf16le');
    encoded.copy(directory, p);
    directory.writeUInt16LE(encoded.length, p + 0x40);
    directory[p + 0x42] = i === 0 ? 5 : 2; // root storage, then streams
    directory.writeUInt32LE(0xffffffff, p + 0x44);
    directory.writeUInt32LE(0xffffffff, p + 0x48);
    directory.writeUInt32LE(i === 0 && streams.length > 0 ? 1 : 0xffffffff, p + 0x4c);
    directory.writeUInt32LE(0xfffffffe, p + 0x74); // no data
  });
  return Buffer.concat([header, fat, directory]);
}

export const MAIN_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
export const STRICT_NS = 'http://purl.oclc.org/ooxml/spreadsheetml/main';
const RELS_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const STRICT_RELS_NS = 'http://purl.oclc.org/ooxml/officeDocument/relationships';

export interface HandMadeSheet {
  readonly name: string;
  /** The inside of `<sheetData>`, or a whole part when it starts with `<?xml`. */
  readonly data: string;
  /** Written before `<sheetData>`: `<dimension>`, `<cols>` … */
  readonly head?: string;
  /** Written after `</sheetData>`: `<mergeCells>` … */
  readonly tail?: string;
}

/**
 * An .xlsx written by hand, part by part, for what exceljs cannot write: cells without `r`, inline
 * strings, raw control characters, a lying `<dimension>`, Strict Open XML, a DTD. Each `si` of `shared`
 * is the inside of an `<si>`; `styles` the inside of `<styleSheet>`.
 */
export interface HandMadeOptions {
  readonly sheets: readonly HandMadeSheet[];
  readonly shared?: readonly string[];
  readonly styles?: string;
  readonly strict?: boolean;
}

export function handMadeXlsx(options: HandMadeOptions): Buffer {
  return makeZip(handMadeParts(options));
}

/** The parts of `handMadeXlsx`, for a test that changes one before zipping (a size it lies about). */
export function handMadeParts(options: HandMadeOptions): ZipInput[] {
  const ns = options.strict ? STRICT_NS : MAIN_NS;
  const rels = options.strict ? STRICT_RELS_NS : RELS_NS;
  const xml = (text: string) =>
    Buffer.from(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n${text}`);
  const relationship = (id: string, type: string, target: string) =>
    `<Relationship Id="${id}" Type="${rels}/${type}" Target="${target}"/>`;
  const sheetRels = options.sheets.map((_, i) =>
    relationship(`rId${i + 1}`, 'worksheet', `worksheets/sheet${i + 1}.xml`),
  );
  const extraRels = [
    ...(options.shared ? [relationship('rIdS', 'sharedStrings', 'sharedStrings.xml')] : []),
    ...(options.styles ? [relationship('rIdT', 'styles', 'styles.xml')] : []),
  ];
  const parts: ZipInput[] = [
    {
      name: '[Content_Types].xml',
      data: xml(
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
          '<Default Extension="xml" ContentType="application/xml"/>' +
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
      ),
    },
    {
      name: '_rels/.rels',
      data: xml(
        `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
          `<Relationship Id="rId1" Type="${rels}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
      ),
    },
    {
      name: 'xl/workbook.xml',
      data: xml(
        `<workbook xmlns="${ns}" xmlns:r="${rels}"${options.strict ? ' conformance="strict"' : ''}><sheets>` +
          options.sheets
            .map((s, i) => `<sheet name="${s.name}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`)
            .join('') +
          '</sheets></workbook>',
      ),
    },
    {
      name: 'xl/_rels/workbook.xml.rels',
      data: xml(
        `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${[...sheetRels, ...extraRels].join('')}</Relationships>`,
      ),
    },
    ...options.sheets.map((s, i) => ({
      name: `xl/worksheets/sheet${i + 1}.xml`,
      data: s.data.startsWith('<?xml')
        ? Buffer.from(s.data)
        : xml(
            `<worksheet xmlns="${ns}">${s.head ?? ''}<sheetData>${s.data}</sheetData>${s.tail ?? ''}</worksheet>`,
          ),
    })),
  ];
  if (options.shared) {
    parts.push({
      name: 'xl/sharedStrings.xml',
      data: xml(
        `<sst xmlns="${ns}" count="${options.shared.length}" uniqueCount="${options.shared.length}">` +
          options.shared.map((si) => `<si>${si}</si>`).join('') +
          '</sst>',
      ),
    });
  }
  if (options.styles) {
    parts.push({
      name: 'xl/styles.xml',
      data: xml(`<styleSheet xmlns="${ns}">${options.styles}</styleSheet>`),
    });
  }
  return parts;
}

/** `<row>` XML of inline-string cells, A onwards; `null` leaves a cell out. */
export function inlineRow(number: number | undefined, cells: ReadonlyArray<string | null>): string {
  const r = number === undefined ? '' : ` r="${number}"`;
  const cellXml = cells.map((text, i) => {
    if (text === null) return '';
    const ref = number === undefined ? '' : ` r="${String.fromCharCode(65 + i)}${number}"`;
    return `<c${ref} t="inlineStr"><is><t xml:space="preserve">${escapeXml(text)}</t></is></c>`;
  });
  return `<row${r}>${cellXml.join('')}</row>`;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
