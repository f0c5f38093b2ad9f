import { execFileSync } from 'node:child_process';
import { open, readFile, readdir, writeFile } from 'node:fs/promises';

import type ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { writeSurveyXlsx, labelOf, patchSurvey } from '../../bench/xlsx-patch.js';
import { InvalidSettingError, InvalidWorkbookError, SheetNotFoundError } from '../../domain/errors.js';
import type { ReportRow } from '../../domain/report.js';
import { cellText } from '../../sheets/cells.js';
import { SheetPatcher } from '../../sheets/sheet-patch.js';
import type { SheetPatchPlan } from '../../sheets/sheet-patch.js';
import { patchWorkbook } from '../../sheets/xlsx-patch.js';
import type { PatchWorkbookInput } from '../../sheets/xlsx-patch.js';
import { openXlsx } from '../../sheets/xlsx-reader.js';
import { readZipRecords } from '../../sheets/zip-records.js';
import { ZipWriter } from '../../sheets/zip-write.js';
import { inspectXlsx, readZipDirectory } from '../../sheets/zip.js';
import type { TempDir } from './fixtures.js';
import {
  FORMATTED,
  formattedWorkbook,
  loadWorkbook,
  makeZip,
  readZip,
  rewriteXlsx,
  rowValues,
  saveWorkbook,
  tempDir,
} from './fixtures.js';

const SUMMARY: ReportRow[] = [
  ['Category', 'Count', '%'],
  ['Price', 3, 0.375],
  ['Other', 5, 0.625],
  ['Total coded', 8, 1],
  [],
  ['Rows', 'Count', 'Treatment'],
  ['Data rows', 10, ''],
];
const RUN: ReportRow[] = [
  ['Setting', 'Value'],
  ['Job', 'job-1'],
  ['Temperature', 0.1],
];
/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => dir.remove());

function sheetOf(workbook: ExcelJS.Workbook, name: string): ExcelJS.Worksheet {
  const sheet = workbook.getWorksheet(name);
  if (!sheet) throw new Error(`no sheet ${name}`);
  return sheet;
}

/** The formatted fixture plus what a loaded copy must keep: a filter, a validation, a note, a name, an image. */
function richWorkbook(): ExcelJS.Workbook {
  const workbook = formattedWorkbook();
  const data = sheetOf(workbook, FORMATTED.sheet);
  data.autoFilter = 'A2:G2';
  data.getCell('E3').dataValidation = {
    type: 'whole',
    operator: 'between',
    allowBlank: true,
    formulae: [0, 10],
  };
  data.getCell('C3').note = 'Checked by the analyst';
  data.addImage(workbook.addImage({ buffer: PNG, extension: 'png' } as never), 'J3:K5');
  workbook.definedNames.add(`${FORMATTED.sheet}!$A$3:$A$12`, 'ids');
  const other = sheetOf(workbook, 'Summary');
  other.getCell('B2').value = 'merged elsewhere';
  other.mergeCells('B2:C2');
  other.getCell('A3').value = { text: 'docs', hyperlink: 'https://example.com/docs' };
  return workbook;
}

/** Local header and compressed data of every entry, as stored. */
async function storedEntries(path: string): Promise<Map<string, Buffer>> {
  const { entries } = await readZipDirectory(path, path);
  const bytes = await readFile(path);
  return new Map(
    entries.map((e) => {
      const start = e.localHeaderOffset;
      const data = start + 30 + bytes.readUInt16LE(start + 26) + bytes.readUInt16LE(start + 28);
      return [e.name, bytes.subarray(start, data + e.compressedSize)];
    }),
  );
}

const LABELS = new Map<number, string>(
  Array.from({ length: FORMATTED.rows }, (_, i) => [3 + i, i % 2 ? 'Price' : 'Other & <more>']),
);
LABELS.set(14, 'Late answer');

function richPatch(inputPath: string, outPath: string, overrides: Partial<PatchWorkbookInput> = {}) {
  return patchWorkbook({
    inputPath,
    displayName: 'rich.xlsx',
    outPath,
    sheet: FORMATTED.sheet,
    columns: [
      { index: 8, header: { row: 2, text: 'Answer category' }, width: 20, value: (r) => LABELS.get(r) },
    ],
    rows: { from: 3, to: 14 },
    widenAutoFilter: true,
    addSheets: [
      { name: 'Summary', rows: SUMMARY },
      { name: 'Run', rows: RUN },
    ],
    ...overrides,
  });
}

describe('patchWorkbook on a workbook written by exceljs', () => {
  let input: string;
  let output: string;
  beforeAll(async () => {
    input = await saveWorkbook(richWorkbook(), dir.file('rich.xlsx'));
    output = dir.file('rich.coded.xlsx');
    const result = await richPatch(input, output);
    expect(result).toEqual({
      path: output,
      rowsPatched: 11,
      sheetPart: 'xl/worksheets/sheet1.xml',
      addedSheets: ['Summary (verbatim)', 'Run'],
      formulasReplaced: 0,
      calcChainRemoved: false,
    });
  });

  it('copies every part it does not edit byte for byte, compressed bytes and local header included', async () => {
    const before = await readZip(input);
    const after = new Map((await readZip(output)).map((e) => [e.name, e.data]));
    const storedBefore = await storedEntries(input);
    const storedAfter = await storedEntries(output);
    const edited = [
      'xl/worksheets/sheet1.xml',
      'xl/workbook.xml',
      'xl/_rels/workbook.xml.rels',
      '[Content_Types].xml',
      'xl/styles.xml',
    ];
    expect([...after.keys()]).toEqual([
      ...before.map((e) => e.name),
      'xl/worksheets/sheet3.xml',
      'xl/worksheets/sheet4.xml',
    ]);
    const untouched = before.filter((e) => !edited.includes(e.name));
    // Drawings, media, comments (notes) and the other sheet are among them.
    expect(untouched.map((e) => e.name)).toEqual(
      expect.arrayContaining(['xl/worksheets/sheet2.xml', 'xl/media/image1.png', 'xl/comments1.xml']),
    );
    for (const entry of untouched) {
      expect(after.get(entry.name)?.equals(entry.data), entry.name).toBe(true);
      expect(
        storedAfter.get(entry.name)?.equals(storedBefore.get(entry.name) ?? Buffer.alloc(0)),
        entry.name,
      ).toBe(true);
    }
    // The edited small parts are the originals with text inserted: nothing else moved.
    const text = (name: string, of: 'before' | 'after') =>
      (of === 'after' ? after.get(name) : before.find((e) => e.name === name)?.data)?.toString('utf8') ?? '';
    expect(
      text('xl/workbook.xml', 'after').replace(/<sheet name="(Summary \(verbatim\)|Run)"[^>]*\/>/g, ''),
    ).toBe(text('xl/workbook.xml', 'before'));
    expect(
      text('[Content_Types].xml', 'after').replace(
        /<Override PartName="\/xl\/worksheets\/sheet[34]\.xml"[^>]*\/>/g,
        '',
      ),
    ).toBe(text('[Content_Types].xml', 'before'));
  });

  it('keeps every original cell, style, merge, note, validation, hyperlink, name, image and view', async () => {
    const before = await loadWorkbook(input);
    const after = await loadWorkbook(output);
    for (const original of before.worksheets) {
      const copy = sheetOf(after, original.name);
      expect(rowValues(copy, original.name === FORMATTED.sheet ? [8] : [])).toEqual(rowValues(original));
      original.eachRow((row, r) =>
        row.eachCell({ includeEmpty: true }, (cell, c) => {
          expect(copy.getCell(r, c).style, cell.address).toEqual(cell.style);
          expect(copy.getCell(r, c).note, cell.address).toEqual(cell.note);
          expect(copy.getCell(r, c).dataValidation, cell.address).toEqual(cell.dataValidation);
        }),
      );
      expect(copy.model.merges).toEqual(original.model.merges);
      expect(copy.views).toEqual(original.views);
      expect(copy.getImages().length).toBe(original.getImages().length);
    }
    const data = sheetOf(after, FORMATTED.sheet);
    expect(data.getCell('B3').value).toMatchObject({ formula: 'E3*2' });
    expect(data.getCell('G4').value).toEqual({ text: 'Case 2', hyperlink: 'https://example.com/case/2' });
    expect(data.getCell('E3').dataValidation).toMatchObject({ type: 'whole', formulae: [0, 10] });
    expect(data.getCell('C3').note).toBe('Checked by the analyst');
    expect(data.getImages()).toHaveLength(1);
    expect(after.definedNames.getRanges('ids').ranges).toEqual([`${FORMATTED.sheet}!$A$3:$A$12`]);
    const widths = (sheet: ExcelJS.Worksheet) => sheet.columns.slice(0, 7).map((c) => c.width);
    expect(widths(data)).toEqual(widths(sheetOf(before, FORMATTED.sheet)));
    expect(sheetOf(after, 'Summary').getCell('A3').value).toEqual({
      text: 'docs',
      hyperlink: 'https://example.com/docs',
    });
  });

  it('writes the header (styled like its neighbour), the values, the width and the wider filter', async () => {
    const data = sheetOf(await loadWorkbook(output), FORMATTED.sheet);
    expect(data.getCell('H2').value).toBe('Answer category');
    expect(data.getCell('H2').style).toEqual(data.getCell('G2').style);
    for (const [row, label] of LABELS) expect(data.getCell(row, 8).value, `H${row}`).toBe(label);
    expect(data.getCell('H13').value).toBeNull();
    expect(data.getColumn(8).width).toBe(20);
    expect(data.autoFilter).toBe('A2:H2');
    expect(data.dimensions).toMatchObject({ top: 1, left: 1, bottom: 14, right: 8 });
  });

  it('reads back the same through our streaming reader', async () => {
    const directory = await inspectXlsx(output, 'rich.coded.xlsx');
    const workbook = await openXlsx(output, directory, 'rich.coded.xlsx');
    expect(workbook.sheets.map((s) => s.name)).toEqual(['Data', 'Summary', 'Summary (verbatim)', 'Run']);
    const target = workbook.sheets[0];
    if (!target) throw new Error('no sheet');
    const labels = new Map<number, string>();
    for await (const row of workbook.rows(target)) {
      const text = cellText(row.getCell(8).value);
      if (text) labels.set(row.number, text);
    }
    expect(labels).toEqual(new Map([[2, 'Answer category'], ...LABELS]));
  });

  it('appends the report sheets with bold block headers and percentages', async () => {
    const after = await loadWorkbook(output);
    const summary = sheetOf(after, 'Summary (verbatim)');
    expect(summary.getRow(2).values).toEqual([undefined, 'Price', 3, 0.375]);
    expect(summary.getCell('C2').numFmt).toBe('0.0%');
    expect(summary.getCell('A1').font.bold).toBe(true);
    expect(summary.getCell('A6').font.bold).toBe(true);
    expect(summary.getCell('A2').font?.bold).toBeFalsy();
    expect(summary.getColumn(1).width).toBe(13);
    const run = sheetOf(after, 'Run');
    expect(run.getCell('B2').value).toBe('job-1');
    expect(run.getCell('B3').value).toBe(0.1);
    expect(run.getCell('B3').numFmt).toBeFalsy();
  });

  it('writes the same bytes whatever the chunking, and the same file twice', async () => {
    const again = dir.file('rich.again.xlsx');
    await richPatch(input, again);
    expect((await readFile(again)).equals(await readFile(output))).toBe(true);
  });
});

describe('patchWorkbook over formula and shared-string cells', () => {
  /** Data!C holds formulas (C2, C3) and shared strings (C4, C5); the chain lists C2, C3 and Data!A7. */
  async function withCalcChain(name: string): Promise<string> {
    const { Workbook } = (await import('exceljs')).default;
    const workbook = new Workbook();
    const sheet = workbook.addWorksheet('Data');
    sheet.addRow(['ID', 'E2', 'E2 category']);
    sheet.addRow([1, 'too dear', { formula: 'UPPER(B2)', result: 'TOO DEAR' }]);
    sheet.addRow([2, 'late', { formula: 'UPPER(B3)', result: 'LATE' }]);
    sheet.addRow([3, 'rude', 'old label']);
    sheet.addRow([4, 'fine', '   ']);
    sheet.getCell('A7').value = { formula: 'SUM(A2:A5)', result: 10 };
    workbook.addWorksheet('Other').addRow(['kept']);
    const plain = await saveWorkbook(workbook, dir.file(`${name}.plain.xlsx`));
    const ct = 'application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml';
    const rel = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain';
    return rewriteXlsx(
      plain,
      dir.file(`${name}.xlsx`),
      (part, text) => {
        if (part === '[Content_Types].xml')
          return text.replace(
            '</Types>',
            `<Override PartName="/xl/calcChain.xml" ContentType="${ct}"/></Types>`,
          );
        if (part === 'xl/_rels/workbook.xml.rels')
          return text.replace(
            '</Relationships>',
            `<Relationship Id="rId99" Type="${rel}" Target="calcChain.xml"/></Relationships>`,
          );
        if (part === 'xl/calcChain.xml')
          return '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="C2" i="1"/><c r="C3"/><c r="A7"/></calcChain>';
        return undefined;
      },
      // The chain before the sheets, as some writers store it.
      (names) => [...names.slice(0, 2), 'xl/calcChain.xml', ...names.slice(2)],
    );
  }

  const LABEL_COLUMN = (index: number, rows: Record<number, string>): PatchWorkbookInput['columns'] => [
    { index, header: { row: 1, text: 'E2 category' }, value: values(rows) },
  ];

  it('leaves out a calculation chain naming formulas the values may replace, with its relationship and type', async () => {
    const input = await withCalcChain('chain');
    const output = dir.file('chain.coded.xlsx');
    const result = await patchWorkbook({
      inputPath: input,
      displayName: 'chain.xlsx',
      outPath: output,
      sheet: 'Data',
      columns: LABEL_COLUMN(3, { 2: 'Price', 4: 'Staff', 5: 'Other' }),
      rows: { from: 2, to: 5 },
      addSheets: [{ name: 'Summary', rows: SUMMARY }],
    });
    expect(result).toMatchObject({ formulasReplaced: 1, calcChainRemoved: true, rowsPatched: 3 });
    const parts = new Map((await readZip(output)).map((e) => [e.name, e.data]));
    expect(parts.has('xl/calcChain.xml')).toBe(false);
    expect(parts.get('[Content_Types].xml')?.toString()).not.toContain('calcChain');
    expect(parts.get('xl/_rels/workbook.xml.rels')?.toString()).not.toContain('calcChain');
    // The shared strings stay as stored: the overwritten one is merely no longer used.
    const before = await storedEntries(input);
    const after = await storedEntries(output);
    expect(
      after.get('xl/sharedStrings.xml')?.equals(before.get('xl/sharedStrings.xml') ?? Buffer.alloc(0)),
    ).toBe(true);
    const data = sheetOf(await loadWorkbook(output), 'Data');
    expect(['C2', 'C3', 'C4', 'C5'].map((a) => data.getCell(a).value)).toEqual([
      'Price',
      { formula: 'UPPER(B3)', result: 'LATE' },
      'Staff',
      'Other',
    ]);
    expect(data.getCell('A7').value).toMatchObject({ formula: 'SUM(A2:A5)' });
    const directory = await inspectXlsx(output, 'chain.coded.xlsx');
    const workbook = await openXlsx(output, directory, 'chain.coded.xlsx');
    const [first] = workbook.sheets;
    if (!first) throw new Error('no sheet');
    const texts: string[] = [];
    for await (const row of workbook.rows(first)) texts.push(cellText(row.getCell(3).value));
    expect(texts).toEqual(['E2 category', 'Price', 'LATE', 'Staff', 'Other', '']);
  });

  it('keeps the chain as stored when no formula of it lies where values go', async () => {
    const input = await withCalcChain('chain-kept');
    const output = dir.file('chain-kept.coded.xlsx');
    const result = await patchWorkbook({
      inputPath: input,
      displayName: 'chain-kept.xlsx',
      outPath: output,
      sheet: 'Data',
      columns: LABEL_COLUMN(4, { 2: 'Price', 3: 'Staff' }),
      // The chain's formulas (C2, C3, A7) all lie outside the new column.
      rows: { from: 2, to: 7 },
    });
    expect(result).toMatchObject({ formulasReplaced: 0, calcChainRemoved: false });
    const before = await storedEntries(input);
    const after = await storedEntries(output);
    for (const part of ['xl/calcChain.xml', '[Content_Types].xml', 'xl/_rels/workbook.xml.rels'])
      expect(after.get(part)?.equals(before.get(part) ?? Buffer.alloc(0)), part).toBe(true);
  });
});

describe('patchWorkbook, failures', () => {
  let input: string;
  beforeAll(async () => {
    input = await saveWorkbook(richWorkbook(), dir.file('fail.xlsx'));
  });

  it('names the sheets when the sheet is not there, and leaves no file behind', async () => {
    const outPath = dir.file('fail.coded.xlsx');
    await expect(richPatch(input, outPath, { sheet: 'Nope' })).rejects.toThrow(SheetNotFoundError);
    expect((await readdir(dir.path)).filter((f) => f.startsWith('fail.coded'))).toEqual([]);
  });

  it('refuses columns out of order and widths out of range', async () => {
    const outPath = dir.file('fail.coded.xlsx');
    const value = () => undefined;
    await expect(
      richPatch(input, outPath, {
        columns: [
          { index: 9, value },
          { index: 8, value },
        ],
      }),
    ).rejects.toThrow(InvalidSettingError);
    await expect(richPatch(input, outPath, { columns: [{ index: 8, width: 0, value }] })).rejects.toThrow(
      InvalidSettingError,
    );
  });

  it('names the part when the sheet XML is damaged or its data does not match its CRC', async () => {
    const entries = await readZip(input);
    const broken = (edit: (xml: string) => string) =>
      makeZip(
        entries.map((e) => ({
          name: e.name,
          data: e.name === 'xl/worksheets/sheet1.xml' ? Buffer.from(edit(e.data.toString('utf8'))) : e.data,
        })),
      );
    await writeFile(
      dir.file('cut.xlsx'),
      broken((xml) => xml.slice(0, xml.indexOf('<row r="5"') + 8)),
    );
    const cut = richPatch(dir.file('cut.xlsx'), dir.file('cut.coded.xlsx'));
    await expect(cut).rejects.toThrow(InvalidWorkbookError);
    await expect(cut).rejects.toThrow(/xl\/worksheets\/sheet1\.xml/);

    await writeFile(
      dir.file('crc.xlsx'),
      corruptCentralCrc(
        broken((xml) => xml),
        'xl/worksheets/sheet1.xml',
      ),
    );
    await expect(richPatch(dir.file('crc.xlsx'), dir.file('crc.coded.xlsx'))).rejects.toThrow(
      /sheet1\.xml is damaged \(its CRC/,
    );
  });
});

/** The zip with the central directory's CRC of `name` changed. */
function corruptCentralCrc(zip: Buffer, name: string): Buffer {
  const copy = Buffer.from(zip);
  const central = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
  for (let at = copy.indexOf(central); at !== -1; at = copy.indexOf(central, at + 4)) {
    const nameLength = copy.readUInt16LE(at + 28);
    if (copy.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      copy.writeUInt32LE(copy.readUInt32LE(at + 16) ^ 0xff, at + 16);
      return copy;
    }
  }
  throw new Error(`no ${name}`);
}

/** Runs the patcher over `xml` cut into `chunk`-byte pieces. */
function patchXml(
  xml: string,
  plan: Partial<SheetPatchPlan> & Pick<SheetPatchPlan, 'columns'>,
  chunk = 1 << 20,
) {
  const patcher = new SheetPatcher(
    { rows: { from: 1, to: 0 }, widenAutoFilter: false, ...plan },
    (reason) => new Error(reason),
  );
  const bytes = Buffer.from(xml, 'utf8');
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) out.push(patcher.push(bytes.subarray(i, i + chunk)));
  out.push(patcher.end());
  return {
    xml: Buffer.concat(out).toString('utf8'),
    rowsPatched: patcher.rowsPatched,
    formulasReplaced: patcher.formulasReplaced,
  };
}

const values =
  (map: Record<number, string | number>) =>
  (row: number): string | number | undefined =>
    map[row];

describe('SheetPatcher', () => {
  it('puts cells in column order, replaces a value cell keeping its style, fills only an empty header', () => {
    const xml =
      '<worksheet><dimension ref="A1:D3"/><sheetData>' +
      '<row r="1" spans="1:4"><c r="A1" s="3" t="s"><v>0</v></c><c r="B1" s="9"/><c r="D1" s="6"><v>1</v></c></row>' +
      '<row r="2"><c r="A2"><v>1</v></c><c r="C2" s="7"><f>A2</f><v>1</v></c><c r="E2"><v>5</v></c></row>' +
      '</sheetData></worksheet>';
    const {
      xml: out,
      rowsPatched,
      formulasReplaced,
    } = patchXml(xml, {
      columns: [
        { index: 2, header: { row: 1, text: 'New B' }, value: () => undefined },
        { index: 3, header: { row: 1, text: 'New C' }, value: values({ 2: 'c2' }) },
        { index: 4, header: { row: 1, text: 'kept' }, value: values({ 2: 4.5 }) },
      ],
      rows: { from: 2, to: 2 },
    });
    expect(out).toBe(
      '<worksheet><dimension ref="A1:D3"/><sheetData>' +
        '<row r="1" spans="1:4"><c r="A1" s="3" t="s"><v>0</v></c>' +
        '<c r="B1" s="3" t="inlineStr"><is><t xml:space="preserve">New B</t></is></c>' +
        '<c r="C1" s="3" t="inlineStr"><is><t xml:space="preserve">New C</t></is></c>' +
        '<c r="D1" s="6"><v>1</v></c></row>' +
        '<row r="2"><c r="A2"><v>1</v></c><c r="C2" s="7" t="inlineStr"><is><t xml:space="preserve">c2</t></is></c>' +
        '<c r="D2"><v>4.5</v></c><c r="E2"><v>5</v></c></row>' +
        '</sheetData></worksheet>',
    );
    expect(rowsPatched).toBe(1);
    expect(formulasReplaced).toBe(1);
  });

  it('inserts missing rows in order, before, between and after, and fills a self-closed row', () => {
    const xml =
      '<worksheet><sheetData><row r="3"><c r="A3"><v>3</v></c></row><row r="5" ht="20" customHeight="1"/></sheetData></worksheet>';
    const { xml: out, rowsPatched } = patchXml(xml, {
      columns: [{ index: 2, value: (r) => (r === 6 ? undefined : `r${r}`) }],
      rows: { from: 2, to: 7 },
    });
    expect(out).toBe(
      '<worksheet><sheetData>' +
        '<row r="2"><c r="B2" t="inlineStr"><is><t xml:space="preserve">r2</t></is></c></row>' +
        '<row r="3"><c r="A3"><v>3</v></c><c r="B3" t="inlineStr"><is><t xml:space="preserve">r3</t></is></c></row>' +
        '<row r="4"><c r="B4" t="inlineStr"><is><t xml:space="preserve">r4</t></is></c></row>' +
        '<row r="5" ht="20" customHeight="1"><c r="B5" t="inlineStr"><is><t xml:space="preserve">r5</t></is></c></row>' +
        '<row r="7"><c r="B7" t="inlineStr"><is><t xml:space="preserve">r7</t></is></c></row>' +
        '</sheetData></worksheet>',
    );
    expect(rowsPatched).toBe(5);
  });

  it('asks each row of the range once, in order, present or not; rows listed out of order are left alone', () => {
    const asked: number[] = [];
    const xml =
      '<worksheet><sheetData><row r="4"/><row r="2"><c r="A2"/></row><row r="6"/></sheetData></worksheet>';
    const { xml: out } = patchXml(xml, {
      columns: [{ index: 3, value: (r) => (asked.push(r), undefined) }],
      rows: { from: 1, to: 8 },
    });
    expect(asked).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(out).toBe(xml);
  });

  it('counts rows and cells without r by position, and copes with cells out of order', () => {
    const xml =
      '<worksheet><sheetData><row><c><v>1</v></c><c><v>2</v></c></row><row><c><v>3</v></c></row>' +
      '<row r="4"><c r="C4"/><c r="A4"/></row></sheetData></worksheet>';
    const { xml: out } = patchXml(xml, {
      columns: [{ index: 2, value: (r) => r * 10 }],
      rows: { from: 1, to: 4 },
    });
    expect(out).toBe(
      '<worksheet><sheetData><row><c><v>1</v></c><c r="B1"><v>10</v></c></row>' +
        '<row><c><v>3</v></c><c r="B2"><v>20</v></c></row>' +
        '<row r="3"><c r="B3"><v>30</v></c></row>' +
        '<row r="4"><c r="B4"><v>40</v></c><c r="C4"/><c r="A4"/></row></sheetData></worksheet>',
    );
  });

  it('keeps namespace prefixes, comments, processing instructions and CDATA, and mends <sheetData/>', () => {
    const head = '<?xml version="1.0"?><!-- made by hand --><x:worksheet xmlns:x="urn:main"><?pi data?>';
    const { xml: out } = patchXml(`${head}<x:sheetData/><x:pageMargins left="1"/></x:worksheet>`, {
      columns: [{ index: 1, header: { row: 1, text: 'H' }, width: 12, value: values({ 2: 'two' }) }],
      rows: { from: 2, to: 2 },
    });
    expect(out).toBe(
      `${head}<x:cols><x:col min="1" max="1" width="12" customWidth="1"/></x:cols><x:sheetData>` +
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t xml:space="preserve">H</x:t></x:is></x:c></x:row>' +
        '<x:row r="2"><x:c r="A2" t="inlineStr"><x:is><x:t xml:space="preserve">two</x:t></x:is></x:c></x:row>' +
        '</x:sheetData><x:pageMargins left="1"/></x:worksheet>',
    );
    const cdata =
      '<worksheet><sheetData><row r="1"><c r="A1" t="str"><v><![CDATA[a<b]]></v></c></row></sheetData></worksheet>';
    expect(
      patchXml(cdata, { columns: [{ index: 1, header: { row: 1, text: 'no' }, value: () => undefined }] })
        .xml,
    ).toBe(cdata);
  });

  it('adds widths only for columns no <col> range covers, in order among the ranges', () => {
    const xml =
      '<worksheet><cols><col min="1" max="2" width="9"/><col min="5" max="9" style="3"/></cols><sheetData/></worksheet>';
    const { xml: out } = patchXml(xml, {
      columns: [2, 3, 6, 12].map((index) => ({ index, width: 15, value: () => undefined })),
    });
    expect(out).toBe(
      '<worksheet><cols><col min="1" max="2" width="9"/><col min="3" max="3" width="15" customWidth="1"/>' +
        '<col min="5" max="9" style="3"/><col min="12" max="12" width="15" customWidth="1"/></cols><sheetData/></worksheet>',
    );
  });

  it('escapes text and writes characters XML cannot carry as _xHHHH_', () => {
    const { xml: out } = patchXml('<worksheet><sheetData/></worksheet>', {
      columns: [{ index: 1, value: () => 'a & <b> "c"\u000b\u0001_x0041_ tab\there\r\nline é 😀' }],
      rows: { from: 1, to: 1 },
    });
    expect(out).toContain(
      '<t xml:space="preserve">a &amp; &lt;b&gt; &quot;c&quot;_x000B__x0001__x005F_x0041_ tab\there&#13;\nline é 😀</t>',
    );
  });

  it('widens a filter that ends right before the new columns on the header row, and nothing else', () => {
    const sheet = (ref: string) =>
      `<worksheet><sheetData/><autoFilter ref="${ref}"><filterColumn colId="0"/></autoFilter></worksheet>`;
    const plan = (ref: string) =>
      patchXml(sheet(ref), {
        columns: [8, 9].map((index) => ({
          index,
          header: { row: 2, text: `h${index}` },
          value: () => undefined,
        })),
        widenAutoFilter: true,
      }).xml;
    expect(plan('A2:G2')).toContain('<autoFilter ref="A2:I2">');
    expect(plan('$B$2:$G$40')).toContain('<autoFilter ref="$B$2:$I$40">');
    expect(plan('A2:F2')).toContain('<autoFilter ref="A2:F2">');
    expect(plan('A1:G1')).toContain('<autoFilter ref="A1:G1">');
  });

  it('gives the same bytes however the input is cut', () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="urn:m"><dimension ref="A1:C4"/><cols><col min="1" max="1" width="5"/></cols>' +
      '<sheetData><row r="1" spans="1:3"><c r="A1" s="1" t="s"><v>0</v></c><c r="B1" s="2"><is><t>  </t></is></c><c r="C1"/></row>' +
      '<row r="2"><c r="A2" t="inlineStr"><is><t>é &amp; ü</t></is></c><c r="B2" s="4"><v>7</v></c></row>' +
      '<!-- a > b --><row r="4" x14ac:dyDescent="0.25"><c r="A4" t="str"><f>"&gt;"</f><v>&gt;</v></c></row></sheetData>' +
      '<autoFilter ref="A1:A1"/><mergeCells count="1"><mergeCell ref="A4:B4"/></mergeCells></worksheet>';
    const plan: Pick<SheetPatchPlan, 'columns' | 'rows' | 'widenAutoFilter'> = {
      columns: [
        { index: 2, header: { row: 1, text: 'Bé' }, value: values({ 2: 'vé', 3: 3 }) },
        { index: 4, header: { row: 1, text: 'D' }, width: 10, value: values({ 4: 'ü' }) },
      ],
      rows: { from: 2, to: 5 },
      widenAutoFilter: true,
    };
    const whole = patchXml(xml, plan).xml;
    expect(whole).toContain('<c r="B1" s="1" t="inlineStr"><is><t xml:space="preserve">Bé</t></is></c>');
    for (const chunk of [1, 2, 3, 5, 8, 13, 64])
      expect(patchXml(xml, plan, chunk).xml, `chunks of ${chunk}`).toBe(whole);
  });

  it('refuses a part that ends inside a row or is not XML', () => {
    const plan = { columns: [{ index: 1, value: () => 1 }], rows: { from: 1, to: 1 } };
    expect(() => patchXml('<worksheet><sheetData><row r="1"><c r="A1"', plan)).toThrow(/ends inside/);
    expect(() => patchXml('<worksheet><sheetData><row r="1">', plan)).toThrow(/ends inside a row/);
    expect(() => patchXml('<worksheet></worksheet>', plan)).toThrow(/has no <sheetData>/);
  });
});

const STRICT = {
  main: 'http://purl.oclc.org/ooxml/spreadsheetml/main',
  rels: 'http://purl.oclc.org/ooxml/officeDocument/relationships',
};
const TRANSITIONAL = {
  main: 'http://schemas.openxmlformats.org/spreadsheetml/2006/main',
  rels: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships',
};

/**
 * A workbook as other tools write it: no styles part, an absolute relationship target (openpyxl), a sheet
 * name that needs escaping, a filter with its hidden defined name, and optionally Strict Open XML
 * namespaces with an `x:` prefix on every element.
 */
function handMadeXlsx(kind: 'strict' | 'transitional'): Buffer {
  const ns = kind === 'strict' ? STRICT : TRANSITIONAL;
  const x = kind === 'strict' ? 'x:' : '';
  const xmlns = kind === 'strict' ? `xmlns:x="${ns.main}"` : `xmlns="${ns.main}"`;
  const part = (name: string, text: string) => ({ name, data: Buffer.from(text, 'utf8') });
  return makeZip([
    part(
      '[Content_Types].xml',
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
        '<Override PartName="/xl/worksheets/data.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    ),
    part(
      '_rels/.rels',
      '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
        `<Relationship Id="rId1" Type="${ns.rels}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    ),
    part(
      'xl/workbook.xml',
      `<${x}workbook ${xmlns} xmlns:r="${ns.rels}"><${x}sheets>` +
        `<${x}sheet name="Answers &amp; more" sheetId="3" r:id="rId7"/></${x}sheets><${x}definedNames>` +
        `<${x}definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'Answers &amp; more'!$A$1:$B$1</${x}definedName>` +
        `</${x}definedNames></${x}workbook>`,
    ),
    part(
      'xl/_rels/workbook.xml.rels',
      '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
        `<Relationship Id="rId7" Type="${ns.rels}/worksheet" Target="/xl/worksheets/data.xml"/></Relationships>`,
    ),
    part(
      'xl/worksheets/data.xml',
      `<${x}worksheet ${xmlns}><${x}dimension ref="A1:B3"/><${x}sheetData>` +
        `<${x}row r="1"><${x}c r="A1" t="inlineStr"><${x}is><${x}t>ID</${x}t></${x}is></${x}c>` +
        `<${x}c r="B1" t="inlineStr"><${x}is><${x}t>E2</${x}t></${x}is></${x}c></${x}row>` +
        `<${x}row r="2"><${x}c r="A2"><${x}v>1</${x}v></${x}c><${x}c r="B2" t="inlineStr"><${x}is><${x}t>too dear</${x}t></${x}is></${x}c></${x}row>` +
        `<${x}row r="4"><${x}c r="A4"><${x}v>3</${x}v></${x}c><${x}c r="B4" t="inlineStr"><${x}is><${x}t>slow</${x}t></${x}is></${x}c></${x}row>` +
        `</${x}sheetData><${x}autoFilter ref="A1:B1"/></${x}worksheet>`,
    ),
  ]);
}

describe('patchWorkbook on workbooks written by other tools', () => {
  it.each(['strict', 'transitional'] as const)(
    'patches a %s workbook and adds the parts it lacks',
    async (kind) => {
      const input = dir.file(`${kind}.xlsx`);
      await writeFile(input, handMadeXlsx(kind));
      const output = dir.file(`${kind}.coded.xlsx`);
      const result = await patchWorkbook({
        inputPath: input,
        displayName: `${kind}.xlsx`,
        outPath: output,
        sheet: 'answers & MORE',
        columns: [
          {
            index: 3,
            header: { row: 1, text: 'E2 category' },
            value: values({ 2: 'Price', 3: 'Other', 4: 'Speed' }),
          },
        ],
        rows: { from: 2, to: 4 },
        widenAutoFilter: true,
        addSheets: [{ name: 'Summary', rows: SUMMARY }],
      });
      expect(result).toMatchObject({
        rowsPatched: 3,
        sheetPart: 'xl/worksheets/data.xml',
        addedSheets: ['Summary'],
      });
      const parts = new Map((await readZip(output)).map((e) => [e.name, e.data.toString('utf8')]));
      const ns = kind === 'strict' ? STRICT : TRANSITIONAL;
      const x = kind === 'strict' ? 'x:' : '';
      expect([...parts.keys()].slice(-2)).toEqual(['xl/worksheets/sheet1.xml', 'xl/styles.xml']);
      expect(parts.get('xl/workbook.xml')).toContain(
        `<${x}sheet name="Summary" sheetId="4" r:id="rId1"/></${x}sheets>`,
      );
      expect(parts.get('xl/workbook.xml')).toContain(`>'Answers &amp; more'!$A$1:$C$1</${x}definedName>`);
      expect(parts.get('xl/_rels/workbook.xml.rels')).toContain(
        `<Relationship Id="rId1" Type="${ns.rels}/worksheet" Target="worksheets/sheet1.xml"/>` +
          `<Relationship Id="rId2" Type="${ns.rels}/styles" Target="styles.xml"/></Relationships>`,
      );
      expect(parts.get('[Content_Types].xml')).toContain('<Override PartName="/xl/styles.xml"');
      expect(parts.get('xl/worksheets/sheet1.xml')).toContain(`<worksheet xmlns="${ns.main}">`);
      expect(parts.get('xl/styles.xml')).toContain(`<styleSheet xmlns="${ns.main}">`);
      const sheet = parts.get('xl/worksheets/data.xml') ?? '';
      expect(sheet).toContain(`<${x}dimension ref="A1:C4"/>`);
      expect(sheet).toContain(
        `<${x}c r="C1" t="inlineStr"><${x}is><${x}t xml:space="preserve">E2 category</${x}t>`,
      );
      expect(sheet).toContain(
        `<${x}row r="3"><${x}c r="C3" t="inlineStr"><${x}is><${x}t xml:space="preserve">Other</${x}t></${x}is></${x}c></${x}row>`,
      );
      expect(sheet).toContain(`<${x}autoFilter ref="A1:C1"/>`);

      if (kind === 'transitional') {
        // exceljs (and so our streaming reader) reads transitional files only; exceljs's full reader misses
        // a sheet whose relationship target is absolute: ours reads that one, exceljs the new one.
        const directory = await inspectXlsx(output, 'coded.xlsx');
        const workbook = await openXlsx(output, directory, 'coded.xlsx');
        expect(workbook.sheets.map((s) => s.name)).toEqual(['Answers & more', 'Summary']);
        const [data] = workbook.sheets;
        if (!data) throw new Error('no sheet');
        const labels: unknown[] = [];
        for await (const row of workbook.rows(data)) labels.push(row.getCell(3).value);
        expect(labels).toEqual(['E2 category', 'Price', 'Other', 'Speed']);
        const summary = sheetOf(await loadWorkbook(output), 'Summary');
        expect(summary.getCell('A1').font.bold).toBe(true);
        expect(summary.getCell('C2').numFmt).toBe('0.0%');
        expect(summary.getCell('C3').value).toBe(0.625);
      }
    },
  );
});

describe('ZipWriter', () => {
  it('writes Zip64 records and UTF-8 names that our reader and Python read, and copies entries as stored', async () => {
    const path = dir.file('zip64.zip');
    const zip = await ZipWriter.create(path, { forceZip64: true });
    await zip.addBuffer({ name: 'a.txt', time: 0, date: 0x21 }, Buffer.from('hello'));
    await zip.addStream(
      { name: 'dossier/é.xml', time: 0, date: 0x21 },
      Array.from({ length: 50 }, (_, i) => Buffer.from(`<row r="${i}"/>`.repeat(1000))),
      true,
    );
    await zip.finish(Buffer.from('archive comment'));
    const entries = await readZip(path);
    expect(entries.map((e) => e.name)).toEqual(['a.txt', 'dossier/é.xml']);
    expect(entries[1]?.data.length).toBe(
      Array.from({ length: 50 }, (_, i) => `<row r="${i}"/>`.length * 1000).reduce((a, b) => a + b),
    );

    // Copied as stored into a plain zip.
    const copyPath = dir.file('copy.zip');
    const copy = await ZipWriter.create(copyPath);
    const directory = await inspectXlsx(path, 'zip64.zip');
    const { records, comment } = await readZipRecords(path, 'zip64.zip', directory);
    const source = await open(path, 'r');
    for (const record of records) await copy.copy(source, record, (reason) => new Error(reason));
    await source.close();
    await copy.finish(comment);
    expect((await readZip(copyPath)).map((e) => e.data)).toEqual(entries.map((e) => e.data));

    if (hasPython()) {
      for (const file of [path, copyPath]) {
        const listed = execFileSync(
          'python3',
          [
            '-c',
            'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(z.comment.decode(), *z.namelist())',
            file,
          ],
          { encoding: 'utf8' },
        );
        expect(listed.trim()).toBe('archive comment a.txt dossier/é.xml');
      }
    }
  });
});

describe('patchWorkbook on a generated survey', () => {
  it('labels every answered row of 20,000, copies the shared strings as stored, and reads back', async () => {
    const rows = 20_000;
    const input = dir.file('survey.xlsx');
    const output = dir.file('survey.coded.xlsx');
    await writeSurveyXlsx(input, rows);
    const result = await patchSurvey(input, output, rows);
    expect(result.rowsPatched).toBe(
      Array.from({ length: rows }, (_, i) => labelOf(i + 2)).filter(Boolean).length,
    );
    const storedBefore = await storedEntries(input);
    const storedAfter = await storedEntries(output);
    expect(
      storedAfter
        .get('xl/sharedStrings.xml')
        ?.equals(storedBefore.get('xl/sharedStrings.xml') ?? Buffer.alloc(0)),
    ).toBe(true);
    const directory = await inspectXlsx(output, 'survey.coded.xlsx');
    const workbook = await openXlsx(output, directory, 'survey.coded.xlsx');
    const target = workbook.sheets[0];
    if (!target) throw new Error('no sheet');
    let checked = 0;
    for await (const row of workbook.rows(target)) {
      const expected = row.number === 1 ? 'E2 category' : (labelOf(row.number) ?? '');
      expect(cellText(row.getCell(5).value), `E${row.number}`).toBe(expected);
      if (row.number > 1) expect(row.getCell(4).formula).toBe(`A${row.number}*2`);
      checked += 1;
    }
    expect(checked).toBe(rows + 1);
  });
});

function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'import zipfile'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
