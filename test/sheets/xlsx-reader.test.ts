import { mkdir, readdir, writeFile } from 'node:fs/promises';

import ExcelJS from 'exceljs';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { previewSheets, readAnswerColumn } from '../../sheets/index.js';
import { ColumnNotFoundError } from '../../domain/errors.js';
import type { TempDir } from './fixtures.js';
import {
  SURVEY,
  generatedWorkbook,
  handMadeXlsx,
  inlineRow,
  makeZip,
  readZip,
  rewriteXlsx,
  saveWorkbook,
  surveyWorkbook,
  tempDir,
} from './fixtures.js';

let dir: TempDir;
let survey: string;
beforeAll(async () => {
  dir = await tempDir();
  survey = await saveWorkbook(surveyWorkbook(), dir.file('survey.xlsx'));
});
afterAll(() => dir.remove());

describe('sheet names and order', () => {
  it('names sheets whose relationship targets are absolute paths, as openpyxl writes them', async () => {
    const path = await rewriteXlsx(survey, dir.file('openpyxl.xlsx'), (name, text) =>
      name === 'xl/_rels/workbook.xml.rels'
        ? text.replaceAll('Target="worksheets/', 'Target="/xl/worksheets/')
        : undefined,
    );
    const column = await readAnswerColumn({
      path,
      displayName: 'o.xlsx',
      format: 'xlsx',
      sheet: 'Responses',
      column: 'E2',
    });
    expect(column).toMatchObject({ sheet: 'Responses', sheetIndex: 2, headerRow: SURVEY.headerRow });
    expect(column.rows).toHaveLength(SURVEY.answers.size);
  });

  it('counts tab order from the workbook, not from the order of the parts', async () => {
    const path = await rewriteXlsx(survey, dir.file('reordered.xlsx'), (name, text) =>
      name === 'xl/workbook.xml'
        ? text.replace(/(<sheet [^>]*name="Intro"[^>]*\/>)(<sheet [^>]*name="Responses"[^>]*\/>)/, '$2$1')
        : undefined,
    );
    const preview = await previewSheets({ path, displayName: 'r.xlsx', format: 'xlsx' });
    expect(preview.sheets.map((s) => [s.index, s.name])).toEqual([
      [1, 'Responses'],
      [2, 'Intro'],
    ]);
    expect(preview).toMatchObject({ sheet: 'Responses', sheetIndex: 1, headerRow: SURVEY.headerRow });
    const intro = await previewSheets({ path, displayName: 'r.xlsx', format: 'xlsx', sheet: '2' });
    expect(intro.columns.map((c) => c.header)).toEqual([
      'This workbook holds the answers of the 2024 survey.',
    ]);
  });

  it('reads files whatever the order of their parts', async () => {
    const first = [
      '[Content_Types].xml',
      'xl/workbook.xml',
      'xl/_rels/workbook.xml.rels',
      'xl/sharedStrings.xml',
      'xl/styles.xml',
    ];
    const path = await rewriteXlsx(
      survey,
      dir.file('excel-order.xlsx'),
      () => undefined,
      (names) => [...first, ...names.filter((n) => !first.includes(n))],
    );
    const column = await readAnswerColumn({
      path,
      displayName: 'e.xlsx',
      format: 'xlsx',
      sheet: '2',
      column: 'D',
    });
    expect(column.rows.map((r) => [r.row, r.answer])).toEqual([...SURVEY.answers]);
    const preview = await previewSheets({ path, displayName: 'e.xlsx', format: 'xlsx', sheet: '2', rows: 1 });
    expect(preview.rows).toHaveLength(1);
  });

  it('skips a hidden first sheet by default', async () => {
    const workbook = surveyWorkbook();
    const intro = workbook.getWorksheet('Intro');
    if (intro) intro.state = 'hidden';
    const path = await saveWorkbook(workbook, dir.file('hidden.xlsx'));
    const column = await readAnswerColumn({ path, displayName: 'h.xlsx', format: 'xlsx', column: 'E2' });
    expect(column).toMatchObject({ sheet: 'Responses', sheetIndex: 2 });
  });
});

describe('parts read by the zip directory', () => {
  it('loses no part when the event loop stalls while a part is parsed', async () => {
    // exceljs's own pass over the zip loses every later part after such a stall (see xlsx-reader.ts).
    const parsers = ExcelJS.stream.xlsx.WorkbookReader.prototype as unknown as Record<string, unknown>;
    const original = parsers._parseRels as (this: unknown, entry: unknown) => Promise<void>;
    parsers._parseRels = async function (this: unknown, entry: unknown) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return original.call(this, entry);
    };
    try {
      const column = await readAnswerColumn({
        path: survey,
        displayName: 's.xlsx',
        format: 'xlsx',
        sheet: '2',
        column: 'E2',
      });
      expect(column.rows.map((r) => [r.row, r.answer])).toEqual([...SURVEY.answers]);
    } finally {
      parsers._parseRels = original;
    }
  });

  it('refuses a part that unpacks to more than its directory entry declares', async () => {
    const entries = await readZip(survey);
    const path = dir.file('liar.xlsx');
    await writeFile(
      path,
      makeZip(entries.map((e) => (e.name === 'xl/worksheets/sheet2.xml' ? { ...e, declaredSize: 100 } : e))),
    );
    await expect(
      readAnswerColumn({ path, displayName: 'liar.xlsx', format: 'xlsx', sheet: '2', column: 'E2' }),
    ).rejects.toThrow(
      'liar.xlsx cannot be read as a spreadsheet: its part xl/worksheets/sheet2.xml unpacks to more than the 100 B its zip directory declares',
    );
  });
});

describe('stopping early', () => {
  // exceljs's own reader parks sheets in temp files under os.tmpdir(); watch a folder of this test's own.
  const savedTmp = process.env.TMPDIR;
  let parking: string;
  beforeAll(async () => {
    parking = dir.file('parking');
    await mkdir(parking);
  });
  beforeEach(() => {
    process.env.TMPDIR = parking;
  });
  afterEach(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });

  async function threeSheets(): Promise<string> {
    const workbook = generatedWorkbook(2000);
    workbook.addWorksheet('Third').addRow(['x']);
    return saveWorkbook(workbook, dir.file('three.xlsx'));
  }

  const openFiles = async () => (await readdir('/proc/self/fd')).length;

  it('leaves no temp file and no open file behind after a preview, an early result or an error', async () => {
    const path = await threeSheets();
    const before = await openFiles();

    const preview = await previewSheets({ path, displayName: 't.xlsx', format: 'xlsx', rows: 2 });
    expect(preview.rows.map((r) => r.row)).toEqual([2, 3]);
    const column = await readAnswerColumn({ path, displayName: 't.xlsx', format: 'xlsx', column: 'E2' });
    expect(column.rows).toHaveLength(2000);
    await expect(
      readAnswerColumn({ path, displayName: 't.xlsx', format: 'xlsx', column: 'Nope' }),
    ).rejects.toThrow(ColumnNotFoundError);

    // Files close asynchronously once a loop over their rows is left.
    await expect.poll(() => readdir(parking), { timeout: 2000 }).toEqual([]);
    await expect.poll(openFiles, { timeout: 2000 }).toBeLessThanOrEqual(before);
  });
});

describe('our sheet and shared-strings parsers', () => {
  const readHandMade = async (name: string, bytes: Buffer, column = 'A') => {
    const path = dir.file(name);
    await writeFile(path, bytes);
    const read = await readAnswerColumn({ path, displayName: name, format: 'xlsx', column });
    return read.rows.map((r) => [r.row, r.answer]);
  };

  it('reads rows and cells without `r` references by their position', async () => {
    const data =
      inlineRow(undefined, ['ID', 'Answer']) +
      inlineRow(undefined, ['1', 'first']) +
      '<row r="5"><c t="inlineStr"><is><t>5</t></is></c><c r="C5" t="inlineStr"><is><t>beside</t></is></c>' +
      '<c t="inlineStr"><is><t>after C</t></is></c></row>' +
      inlineRow(undefined, ['6', 'sixth']);
    const path = dir.file('no-refs.xlsx');
    await writeFile(path, handMadeXlsx({ sheets: [{ name: 'Data', data }] }));
    const preview = await previewSheets({ path, displayName: 'no-refs.xlsx', format: 'xlsx' });
    expect(preview.rows).toEqual([
      { row: 2, cells: ['1', 'first', '', ''] },
      { row: 5, cells: ['5', '', 'beside', 'after C'] },
      { row: 6, cells: ['6', 'sixth', '', ''] },
    ]);
  });

  it('reads inline rich strings whole, CDATA, and elements written with a prefix', async () => {
    const data =
      inlineRow(1, ['Answer']) +
      '<row r="2"><c r="A2" t="inlineStr"><is><r><t>Too </t></r><r><rPr><b/></rPr><t>slow</t></r></is></c></row>' +
      '<row r="3"><c r="A3" t="inlineStr"><is><t><![CDATA[<b>raw</b> & more]]></t></is></c></row>';
    expect(await readHandMade('inline.xlsx', handMadeXlsx({ sheets: [{ name: 'Data', data }] }))).toEqual([
      [2, 'Too slow'],
      [3, '<b>raw</b> & more'],
    ]);
    const prefixed = `<?xml version="1.0"?><x:worksheet xmlns:x="${'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}"><x:sheetData>${(
      inlineRow(1, ['Answer']) + inlineRow(2, ['with a prefix'])
    ).replace(/<(\/?)(row|c|is|t)\b/g, '<$1x:$2')}</x:sheetData></x:worksheet>`;
    expect(
      await readHandMade('x.xlsx', handMadeXlsx({ sheets: [{ name: 'Data', data: prefixed }] })),
    ).toEqual([[2, 'with a prefix']]);
  });

  it('reads cached formula results by their type, and decodes entities once', async () => {
    const styles =
      '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>' +
      '<fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders>' +
      '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs>';
    const data =
      inlineRow(1, ['Answer']) +
      '<row r="2"><c r="A2" t="b"><f>1=1</f><v>1</v></c></row>' +
      '<row r="3"><c r="A3" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>' +
      '<row r="4"><c r="A4" s="1"><f>DATE(2024,3,5)</f><v>45356</v></c></row>' +
      '<row r="5"><c r="A5" t="str"><f>"&amp;lt;"</f><v>&amp;lt; is text</v></c></row>' +
      '<row r="6"><c r="A6" t="inlineStr"><is><t>&amp;amp; stays</t></is></c></row>' +
      '<row r="7"><c r="A7"><v>0.30000000000000004</v></c></row>';
    expect(
      await readHandMade('formulas.xlsx', handMadeXlsx({ sheets: [{ name: 'Data', data }], styles })),
    ).toEqual([
      [2, 'TRUE'],
      [3, '#DIV/0!'],
      [4, '2024-03-05'],
      [5, '&lt; is text'],
      [6, '&amp; stays'],
      [7, '0.3'],
    ]);
  });

  it('reads a shared string’s text, not its phonetic guide, and not the indentation between elements', async () => {
    const shared = [
      '<t>Answer</t>',
      '<t>漢字</t><rPh sb="0" eb="2"><t>カンジ</t></rPh><phoneticPr fontId="1"/>',
      '\n    <r><rPr><b/><sz val="11"/></rPr><t>bold</t></r>\n    <r><t xml:space="preserve"> plain</t></r>\n  ',
    ];
    const data = [1, 2, 3].map((r) => `<row r="${r}"><c r="A${r}" t="s"><v>${r - 1}</v></c></row>`).join('');
    expect(
      await readHandMade('ruby.xlsx', handMadeXlsx({ sheets: [{ name: 'Data', data }], shared })),
    ).toEqual([
      [2, '漢字'],
      [3, 'bold plain'],
    ]);
  });

  it('keeps characters that straddle the unpacker’s chunks whole (exceljs turned them into U+FFFD)', async () => {
    const answers = Array.from({ length: 3_000 }, (_, i) => `Größe ${i} und 日本語のテキスト`);
    const data = inlineRow(1, ['Answer']) + answers.map((a, i) => inlineRow(i + 2, [a])).join('');
    const rows = await readHandMade('utf8.xlsx', handMadeXlsx({ sheets: [{ name: 'Data', data }] }));
    expect(rows.map(([, answer]) => answer)).toEqual(answers);
  });

  it('reads control characters Excel escapes as _xHHHH_, and those other programs write raw or as references', async () => {
    const data =
      inlineRow(1, ['Answer']) +
      '<row r="2"><c r="A2" t="inlineStr"><is><t>line_x000D_\nbreak _x005F_x0041_ stays</t></is></c></row>' +
      '<row r="3"><c r="A3" t="inlineStr"><is><t>raw \u0001 and &#x1; and &#xD800;</t></is></c></row>';
    expect(await readHandMade('ctl.xlsx', handMadeXlsx({ sheets: [{ name: 'Data', data }] }))).toEqual([
      [2, 'line\r\nbreak _x0041_ stays'],
      [3, 'raw \u0001 and \u0001 and \uD800'],
    ]);
  });

  it('refuses a part that is not well-formed, naming the part and the place', async () => {
    const data = inlineRow(1, ['Answer']) + '<row r="2"><c r="A2" t="inlineStr"><is><t>open</is></c></row>';
    await expect(
      readHandMade('bad.xlsx', handMadeXlsx({ sheets: [{ name: 'Data', data }] })),
    ).rejects.toThrow(
      /^bad\.xlsx cannot be read as a spreadsheet: its part xl\/worksheets\/sheet1\.xml is not well-formed XML \(line 2, column \d+: unexpected close tag\)$/,
    );
  });
});
