/**
 * The hostile-input corpus: files built in memory (no committed binaries), each with what it is and what
 * verbatim must make of it: accepted (its answer rows, and warnings naming rows), or refused (the error
 * class and a message naming the problem). `hostile.test.ts` runs every file through the entry points the
 * service uses. Run as a script to write the corpus to a folder, for looking at the files with other tools:
 *
 *     npx tsx test/sheets/hostile-corpus.ts /tmp/hostile
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import ExcelJS from 'exceljs';

import type { DomainError } from '../../domain/errors.js';
import { InvalidWorkbookError, NoAnswersError } from '../../domain/errors.js';
import type { SheetWarningCode } from '../../domain/sheet-warnings.js';
import type { ZipInput } from './fixtures.js';
import { escapeXml, handMadeParts, handMadeXlsx, inlineRow, makeCompoundFile, makeZip } from './fixtures.js';

export interface Accepted {
  /** How many answer rows `readAnswerColumn` returns. */
  readonly rows: number;
  /** Some of them: [sheet row, answer text as read]. */
  readonly answers?: ReadonlyArray<readonly [number, string]>;
  /** What the model is sent for some of them: [sheet row, cleaned text]. */
  readonly sentToModel?: ReadonlyArray<readonly [number, string]>;
  /** The warnings `readAnswerColumn` returns, each kind with its rows (default: none). */
  readonly warnings?: ReadonlyArray<{ readonly code: SheetWarningCode; readonly rows: readonly number[] }>;
  /** The sheet that was read, when not the first. */
  readonly sheet?: string;
  /** How many sheets the preview lists (default 1). */
  readonly sheets?: number;
}

/** The service's entry points: job start, the job's prepare step, the web page's column picker. */
export type EntryPoint = 'inspectColumn' | 'readAnswerColumn' | 'previewSheets';

export interface Refused {
  readonly error: abstract new (...args: never[]) => DomainError;
  /** Matched against the whole message. */
  readonly message: RegExp;
  /**
   * The entry points that refuse it (default: all three); the others accept it. The preview names no
   * column, so it shows a header-only sheet; job start reads only the top, so it cannot see a sheet full
   * to the last column.
   */
  readonly by?: readonly EntryPoint[];
}

export interface HostileFile {
  /** The file name: its extension decides how it is read. */
  readonly name: string;
  /** What the file is, in a few words. */
  readonly what: string;
  readonly column: string;
  readonly sheet?: string;
  readonly maxUnpackedBytes?: number;
  readonly build: () => Buffer | Promise<Buffer>;
  readonly expect: { readonly accepted: Accepted } | { readonly refused: Refused };
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
/** Excel's longest cell. */
const LONGEST_CELL = 32_767;

const refusedFile = (message: RegExp): { refused: Refused } => ({
  refused: { error: InvalidWorkbookError, message },
});
const cannotRead = (name: string, reason: string) =>
  new RegExp(`^${escapeRegExp(name)} cannot be read as a spreadsheet: ${reason}$`);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function xlsxOf(fill: (workbook: ExcelJS.Workbook) => void): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  fill(workbook);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** A small survey as exceljs writes it: ID and Answer, three answers. */
const simpleSurvey = () =>
  xlsxOf((workbook) => {
    const sheet = workbook.addWorksheet('Responses');
    sheet.addRows([
      ['ID', 'Answer'],
      [1, 'Too expensive'],
      [2, 'Friendly staff'],
      [3, 'Slow delivery'],
    ]);
  });

const header = inlineRow(1, ['ID', 'Answer']);
const answerRows = (answers: readonly string[], first = 2) =>
  answers.map((answer, i) => inlineRow(first + i, [String(first + i - 1), answer])).join('');

/** The text of a cell holding every kind of character a model should not be sent, as the sheet keeps it. */
const NASTY = 'pri\u0000ce\u0007 too\u202E high\u200B\u2066!\uFEFF';
const NASTY_CLEAN = 'price too high!';

/**
 * A long cell of control characters, lone surrogates, bidi and zero-width characters among words, in a
 * pseudo-random order: text packs 3–10:1, and a cell of one pattern repeated would pack past the zip-bomb
 * guard's 200:1 (`bomb-ratio.xlsx`).
 */
function longNastyCell(seed: number): string {
  const pieces = [
    'word',
    '\u0001',
    '\uD800',
    '\u202E',
    '\u200B',
    'é',
    ' ',
    '\uDC00',
    '\u0000',
    'x',
    'ü',
    '\t',
  ];
  let state = seed + 1;
  let text = `answer ${seed} `;
  while (text.length < LONGEST_CELL) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    text += pieces[state % pieces.length] ?? '';
  }
  return text.slice(0, LONGEST_CELL);
}

/** Letters and spaces in a pseudo-random order: text that packs like text, not like a bomb. */
function noise(length: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz     ';
  let state = 7;
  let text = '';
  for (let i = 0; i < length; i += 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    text += letters[state % letters.length] ?? '';
  }
  return text;
}

/** How Excel writes text: XML escapes, and `_xHHHH_` for what XML cannot hold (control codes, lone surrogates). */
function excelEscapeUnits(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    const paired =
      (unit >= 0xd800 && unit <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) ||
      (unit >= 0xdc00 && unit <= 0xdfff && (text.charCodeAt(i - 1) & 0xfc00) === 0xd800);
    const forbidden =
      (unit < 0x20 && unit !== 0x09 && unit !== 0x0a && unit !== 0x0d) ||
      (unit >= 0xd800 && unit <= 0xdfff && !paired);
    out += forbidden ? `_x${unit.toString(16).toUpperCase().padStart(4, '0')}_` : escapeXml(text[i] ?? '');
  }
  return out;
}

const billionLaughs =
  '<!DOCTYPE worksheet [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' +
  '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">' +
  '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>';

const DATE_STYLES =
  '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>' +
  '<fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders>' +
  '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs>';

function withPart(parts: ZipInput[], name: string, change: (part: ZipInput) => ZipInput): ZipInput[] {
  return parts.map((part) => (part.name === name ? change(part) : part));
}

export const HOSTILE_FILES: readonly HostileFile[] = [
  // ── Not a spreadsheet at all ────────────────────────────────────────────────────────────────────────
  {
    name: 'empty.xlsx',
    what: 'a file of 0 bytes named .xlsx',
    column: 'A',
    build: () => Buffer.alloc(0),
    expect: refusedFile(cannotRead('empty.xlsx', 'the file is empty \\(0 bytes\\)')),
  },
  {
    name: 'empty.csv',
    what: 'a file of 0 bytes named .csv',
    column: 'A',
    build: () => Buffer.alloc(0),
    expect: refusedFile(cannotRead('empty.csv', 'the file is empty \\(0 bytes\\)')),
  },
  {
    name: 'report.xlsx',
    what: 'a PDF document named .xlsx',
    column: 'A',
    build: () =>
      Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n', 'latin1'),
    expect: refusedFile(cannotRead('report.xlsx', 'it is a PDF document, not a spreadsheet')),
  },
  {
    name: 'photo.csv',
    what: 'a PNG image named .csv',
    column: 'A',
    build: () => Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 7)]),
    expect: refusedFile(cannotRead('photo.csv', 'it is a PNG image, not a spreadsheet')),
  },
  {
    name: 'noise.csv',
    what: 'random bytes named .csv',
    column: 'A',
    build: () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)),
    expect: refusedFile(cannotRead('noise.csv', 'it is a binary file, not CSV text')),
  },
  {
    name: 'export.xlsx',
    what: 'CSV text named .xlsx',
    column: 'A',
    build: () => Buffer.from('ID,Answer\n1,Too expensive\n'),
    expect: refusedFile(
      cannotRead(
        'export.xlsx',
        'it is a text file, not an .xlsx file: if it is CSV, upload it with a .csv name',
      ),
    ),
  },
  {
    name: 'web-export.xlsx',
    what: 'an HTML table named .xlsx (what web apps call an Excel export)',
    column: 'A',
    build: () => Buffer.from('<html><body><table><tr><td>Answer</td></tr></table></body></html>'),
    expect: refusedFile(/it is a web page \(HTML\) saved with a spreadsheet name, not an \.xlsx file/),
  },
  {
    name: 'office2003.xlsx',
    what: 'an Excel 2003 XML spreadsheet named .xlsx',
    column: 'A',
    build: () =>
      Buffer.from(
        '<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet/></Workbook>',
      ),
    expect: refusedFile(
      /it is an Excel 2003 XML spreadsheet, not an \.xlsx file: open it in Excel and save it as \.xlsx$/,
    ),
  },
  {
    name: 'letter.xlsx',
    what: 'a Word document (.docx) named .xlsx',
    column: 'A',
    build: () =>
      makeZip([
        { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
        { name: 'word/document.xml', data: Buffer.from('<w:document/>') },
      ]),
    expect: refusedFile(cannotRead('letter.xlsx', 'it is a Word document \\(\\.docx\\), not a workbook')),
  },
  {
    name: 'libreoffice.xlsx',
    what: 'an OpenDocument spreadsheet (.ods) named .xlsx',
    column: 'A',
    build: () =>
      makeZip([
        { name: 'mimetype', data: Buffer.from('application/vnd.oasis.opendocument.spreadsheet'), method: 0 },
        { name: 'content.xml', data: Buffer.from('<office:document-content/>') },
      ]),
    expect: refusedFile(
      /it is an OpenDocument file \(\.ods, LibreOffice\), not an \.xlsx workbook: save it as \.xlsx$/,
    ),
  },
  {
    name: 'password.xlsx',
    what: 'a password-protected workbook (an OLE container with EncryptionInfo and EncryptedPackage)',
    column: 'A',
    build: () => makeCompoundFile(['EncryptionInfo', 'EncryptedPackage', '\u0006DataSpaces']),
    expect: refusedFile(
      cannotRead('password.xlsx', 'the workbook is password-protected: save it without a password .*'),
    ),
  },
  {
    name: 'legacy.xlsx',
    what: 'a legacy Excel 97–2003 workbook (.xls content) named .xlsx',
    column: 'A',
    build: () => makeCompoundFile(['Workbook', '\u0005SummaryInformation']),
    expect: refusedFile(
      cannotRead('legacy.xlsx', 'it is a legacy Excel 97–2003 workbook \\(\\.xls\\): save it as \\.xlsx'),
    ),
  },
  {
    name: 'legacy.csv',
    what: 'a legacy .xls workbook named .csv',
    column: 'A',
    build: () => makeCompoundFile(['Workbook']),
    expect: refusedFile(
      cannotRead('legacy.csv', 'it is a legacy Excel 97–2003 workbook \\(\\.xls\\): save it as \\.xlsx'),
    ),
  },
  {
    name: 'zipped-survey.csv',
    what: 'an .xlsx workbook named .csv',
    column: 'Answer',
    build: simpleSurvey,
    expect: refusedFile(
      cannotRead('zipped-survey.csv', 'it is a zip \\(an \\.xlsx\\?\\), not CSV text; upload it as \\.xlsx'),
    ),
  },

  // ── Damaged and hostile zips ────────────────────────────────────────────────────────────────────────
  {
    name: 'truncated.xlsx',
    what: 'a workbook cut off halfway (an interrupted download)',
    column: 'Answer',
    build: async () => {
      const whole = await simpleSurvey();
      return whole.subarray(0, Math.floor(whole.length / 2));
    },
    expect: refusedFile(
      cannotRead('truncated.xlsx', 'the zip is truncated or damaged \\(no end of central directory\\)'),
    ),
  },
  {
    name: 'bomb-claims.xlsx',
    what: 'a zip bomb that is honest: its directory declares a 3 GiB sheet',
    column: 'A',
    build: () =>
      makeZip(
        withPart(
          handMadeParts({ sheets: [{ name: 'Data', data: header }] }),
          'xl/worksheets/sheet1.xml',
          (part) => ({
            ...part,
            declaredSize: 3 * GiB,
          }),
        ),
      ),
    expect: refusedFile(
      /^bomb-claims\.xlsx cannot be read as a spreadsheet: it would unpack to 3\.0 GiB \(xl\/worksheets\/sheet1\.xml alone 3\.0 GiB\) from a [\d.]+ KiB file, past the 1\.0 GiB limit; refused as a possible zip bomb$/,
    ),
  },
  {
    name: 'bomb-ratio.xlsx',
    what: 'a zip bomb that is honest: 8 MiB of spaces packed 1000:1 in the sheet',
    column: 'A',
    build: () => {
      const padding = ' '.repeat(8 * MiB);
      return handMadeXlsx({ sheets: [{ name: 'Data', data: header + padding }] });
    },
    expect: refusedFile(
      /its part xl\/worksheets\/sheet1\.xml would unpack from [\d.]+ KiB to 8\.0 MiB \(\d+:1, more than 200:1\); refused as a possible zip bomb$/,
    ),
  },
  {
    name: 'bomb-lying.xlsx',
    what: 'a zip bomb whose directory lies: it declares 1,000 bytes for an 8 MiB sheet',
    column: 'A',
    build: () =>
      makeZip(
        withPart(
          handMadeParts({ sheets: [{ name: 'Data', data: header + ' '.repeat(8 * MiB) }] }),
          'xl/worksheets/sheet1.xml',
          (part) => ({ ...part, declaredSize: 1000 }),
        ),
      ),
    expect: refusedFile(
      cannotRead(
        'bomb-lying.xlsx',
        'its part xl/worksheets/sheet1\\.xml unpacks to more than the 1000 B its zip directory declares: the zip lies about its sizes; refused as a possible zip bomb',
      ),
    ),
  },
  {
    name: 'over-limit.xlsx',
    what: 'an honest 300 KiB sheet under a configured limit of 256 KiB (MAX unpacked size)',
    column: 'Answer',
    maxUnpackedBytes: 256 * KiB,
    build: () => {
      const answers = Array.from({ length: 3_000 }, (_, i) => `answer number ${i} with some words in it`);
      return handMadeXlsx({ sheets: [{ name: 'Data', data: header + answerRows(answers) }] });
    },
    expect: refusedFile(
      /it would unpack to [\d.]+ KiB \(xl\/worksheets\/sheet1\.xml alone [\d.]+ KiB\) from a [\d.]+ KiB file, past the 256 KiB limit; refused as a possible zip bomb$/,
    ),
  },
  {
    name: 'zip64-broken.xlsx',
    what: 'a Zip64 entry whose real sizes are missing',
    column: 'A',
    build: () => makeZip([{ name: 'xl/workbook.xml', data: Buffer.from('<workbook/>'), zip64: 'broken' }]),
    expect: refusedFile(
      cannotRead(
        'zip64-broken.xlsx',
        'it is a Zip64 archive and the sizes of its part xl/workbook\\.xml are unknown',
      ),
    ),
  },
  {
    name: 'zipcrypto.xlsx',
    what: 'a workbook zipped with a password (entries flagged as encrypted)',
    column: 'A',
    build: () => {
      const zip = handMadeXlsx({ sheets: [{ name: 'Data', data: header }] });
      for (let p = zip.indexOf('504b0102', 0, 'hex'); p !== -1; p = zip.indexOf('504b0102', p + 4, 'hex')) {
        zip.writeUInt16LE(zip.readUInt16LE(p + 8) | 1, p + 8);
      }
      return zip;
    },
    expect: refusedFile(
      /its part \[Content_Types\]\.xml is encrypted \(a zip with a password\): save the workbook without a password$/,
    ),
  },
  {
    name: 'laughs.xlsx',
    what: 'XML entity expansion ("billion laughs") in the sheet',
    column: 'A',
    build: () =>
      handMadeXlsx({
        sheets: [
          {
            name: 'Data',
            data: `<?xml version="1.0"?>${billionLaughs}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${header}<row r="2"><c r="A2" t="inlineStr"><is><t>&f;</t></is></c></row></sheetData></worksheet>`,
          },
        ],
      }),
    expect: refusedFile(
      cannotRead(
        'laughs.xlsx',
        'its part xl/worksheets/sheet1\\.xml declares a document type \\(<!DOCTYPE>\\), which no Office file does: refused, as entities declared there can expand without bound or read other files',
      ),
    ),
  },
  {
    name: 'external-entity.xlsx',
    what: 'an external entity (file:///etc/hostname) in the shared strings',
    column: 'A',
    build: () =>
      makeZip(
        withPart(
          handMadeParts({
            sheets: [{ name: 'Data', data: '<row r="1"><c r="A1" t="s"><v>0</v></c></row>' }],
            shared: ['<t>Answer</t>'],
          }),
          'xl/sharedStrings.xml',
          (part) => ({
            ...part,
            data: Buffer.from(
              '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY host SYSTEM "file:///etc/hostname">]>' +
                '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&host;</t></si></sst>',
            ),
          }),
        ),
      ),
    expect: refusedFile(/its part xl\/sharedStrings\.xml declares a document type \(<!DOCTYPE>\)/),
  },
  {
    name: 'malformed.xlsx',
    what: 'a sheet part that is not well-formed XML',
    column: 'A',
    build: () =>
      handMadeXlsx({
        sheets: [
          { name: 'Data', data: `${header}<row r="2"><c r="A2" t="inlineStr"><is><t>open</is></c></row>` },
        ],
      }),
    expect: refusedFile(
      cannotRead(
        'malformed.xlsx',
        'its part xl/worksheets/sheet1\\.xml is not well-formed XML \\(line 2, column \\d+: unexpected close tag\\)',
      ),
    ),
  },
  {
    name: 'row-overflow.xlsx',
    what: 'a row numbered past Excel’s 1,048,576',
    column: 'Answer',
    build: () =>
      handMadeXlsx({ sheets: [{ name: 'Data', data: header + inlineRow(2_000_000, ['1', 'far down']) }] }),
    expect: refusedFile(
      /its part xl\/worksheets\/sheet1\.xml has a row numbered "2000000", not 1 to 1048576$/,
    ),
  },

  {
    name: 'huge-cell.xlsx',
    what: 'an inline cell of 1.5 million characters (Excel holds 32,767), packed 1.7:1',
    column: 'Answer',
    build: () =>
      handMadeXlsx({
        sheets: [
          {
            name: 'Data',
            data: header + `<row r="2"><c r="B2" t="inlineStr"><is><t>${noise(1_500_000)}</t></is></c></row>`,
          },
        ],
      }),
    expect: refusedFile(
      cannotRead(
        'huge-cell.xlsx',
        'its part xl/worksheets/sheet1\\.xml has a cell \\(B2\\) of more than 1,048,576 characters \\(Excel holds at most 32,767\\)',
      ),
    ),
  },
  {
    name: 'huge-shared-string.xlsx',
    what: 'a shared string of 1.5 million characters',
    column: 'A',
    build: () =>
      handMadeXlsx({
        shared: ['<t>Answer</t>', `<t>${noise(1_500_000)}</t>`],
        sheets: [
          {
            name: 'Data',
            data: '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>',
          },
        ],
      }),
    expect: refusedFile(
      cannotRead(
        'huge-shared-string.xlsx',
        'its part xl/sharedStrings\\.xml has string 2 of more than 1,048,576 characters \\(Excel holds at most 32,767 in a cell\\)',
      ),
    ),
  },

  // ── Workbooks with nothing to code ─────────────────────────────────────────────────────────────────
  {
    name: 'zero-sheets.xlsx',
    what: 'a workbook part that lists no sheets',
    column: 'A',
    build: () =>
      makeZip(
        withPart(handMadeParts({ sheets: [{ name: 'Data', data: header }] }), 'xl/workbook.xml', (part) => ({
          ...part,
          data: Buffer.from(
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>',
          ),
        })),
      ),
    expect: refusedFile(cannotRead('zero-sheets.xlsx', 'its workbook part lists no sheets')),
  },
  {
    name: 'header-only.xlsx',
    what: 'a header row and no data rows',
    column: 'Answer',
    build: () => handMadeXlsx({ sheets: [{ name: 'Data', data: header }] }),
    expect: {
      refused: {
        error: NoAnswersError,
        message:
          /^Column "Answer" of sheet "Data" in header-only\.xlsx has no answers: no row below its header \(row 1\) has text in it\.$/,
        by: ['inspectColumn', 'readAnswerColumn'],
      },
    },
  },
  {
    name: 'header-only.csv',
    what: 'a CSV header line and nothing else',
    column: 'Answer',
    build: () => Buffer.from('ID;Answer\r\n'),
    expect: {
      refused: {
        error: NoAnswersError,
        message: /^Column "Answer" of sheet "header-only" in header-only\.csv has no answers/,
        by: ['inspectColumn', 'readAnswerColumn'],
      },
    },
  },
  {
    name: 'invisible-only.csv',
    what: 'answers that are only zero-width spaces, NUL and BOMs',
    column: 'Answer',
    build: () => Buffer.from('ID,Answer\n1,"\u200B\u0000"\n2,"\uFEFF\u202E"\n'),
    expect: {
      refused: {
        error: NoAnswersError,
        message: /has no answers/,
        by: ['inspectColumn', 'readAnswerColumn'],
      },
    },
  },
  {
    name: 'bom-only.csv',
    what: 'a CSV of a byte-order mark alone',
    column: 'A',
    build: () => Buffer.from('\uFEFF'),
    expect: {
      refused: {
        error: InvalidWorkbookError,
        message: cannotRead('bom-only.csv', 'sheet "bom-only" is empty'),
        by: ['inspectColumn', 'readAnswerColumn'],
      },
    },
  },

  // ── Characters the model must not be sent as they are ───────────────────────────────────────────────
  {
    name: 'controls.csv',
    what: 'control characters, bidi overrides, zero-width spaces, NUL and a BOM inside cells',
    column: 'Answer',
    build: () => Buffer.from(`\uFEFFID,Answer\r\n1,"${NASTY}"\r\n2,"\u200F\u061Cok\u0085"\r\n`, 'utf8'),
    expect: {
      accepted: {
        rows: 2,
        answers: [
          [2, NASTY],
          [3, '\u200F\u061Cok\u0085'],
        ],
        sentToModel: [
          [2, NASTY_CLEAN],
          [3, 'ok'],
        ],
      },
    },
  },
  {
    name: 'controls.xlsx',
    what: 'the same characters in an .xlsx, as Excel escapes them (_x0001_), with lone surrogates',
    column: 'Answer',
    build: () =>
      handMadeXlsx({
        sheets: [
          {
            name: 'Data',
            data:
              header +
              `<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="inlineStr"><is><t>${excelEscapeUnits(`${NASTY}\uD800`)}</t></is></c></row>` +
              `<row r="3"><c r="A3"><v>2</v></c><c r="B3" t="inlineStr"><is><t>${excelEscapeUnits('\uDC00lone\uD83D halves')}</t></is></c></row>`,
          },
        ],
      }),
    expect: {
      accepted: {
        rows: 2,
        answers: [
          [2, `${NASTY}\uD800`],
          [3, '\uDC00lone\uD83D halves'],
        ],
        sentToModel: [
          [2, NASTY_CLEAN],
          [3, 'lone halves'],
        ],
      },
    },
  },
  {
    name: 'controls-raw.xlsx',
    what: 'control characters written raw into the XML (not well-formed; some generators do it)',
    column: 'Answer',
    build: () =>
      handMadeXlsx({
        sheets: [
          {
            name: 'Data',
            data:
              header +
              '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="inlineStr"><is><t>bell\u0007 and NUL\u0000 inside</t></is></c></row>' +
              '<row r="3"><c r="A3"><v>2</v></c><c r="B3" t="inlineStr"><is><t>ref &#1; too</t></is></c></row>',
          },
        ],
      }),
    expect: {
      accepted: {
        rows: 2,
        answers: [
          [2, 'bell\u0007 and NUL\u0000 inside'],
          [3, 'ref \u0001 too'],
        ],
        sentToModel: [
          [2, 'bell and NUL inside'],
          [3, 'ref too'],
        ],
      },
    },
  },
  {
    name: 'long-controls.xlsx',
    what: '40 cells of 32,767 characters: control codes, lone surrogates, bidi and zero-width characters',
    column: 'Answer',
    build: () =>
      handMadeXlsx({
        sheets: [
          {
            name: 'Data',
            data:
              header +
              Array.from(
                { length: 40 },
                (_, i) =>
                  `<row r="${i + 2}"><c r="A${i + 2}"><v>${i + 1}</v></c><c r="B${i + 2}" t="inlineStr"><is><t>${excelEscapeUnits(longNastyCell(i))}</t></is></c></row>`,
              ).join(''),
          },
        ],
      }),
    expect: { accepted: { rows: 40, answers: [[2, longNastyCell(0)]] } },
  },
  {
    name: 'longest-cells.xlsx',
    what: 'cells of Excel’s maximum length, 32,767 characters, one letter repeated and Chinese',
    column: 'Answer',
    build: () =>
      xlsxOf((workbook) => {
        const sheet = workbook.addWorksheet('Data');
        sheet.addRows([
          ['ID', 'Answer'],
          [1, 'a'.repeat(LONGEST_CELL)],
          [2, '很'.repeat(LONGEST_CELL)],
          [3, `${'slow '.repeat(6_553)}!!`],
        ]);
      }),
    expect: {
      accepted: {
        rows: 3,
        answers: [
          [2, 'a'.repeat(LONGEST_CELL)],
          [3, '很'.repeat(LONGEST_CELL)],
          [4, `${'slow '.repeat(6_553)}!!`],
        ],
      },
    },
  },
  {
    name: 'longest-cells.csv',
    what: 'a CSV with a 32,767-character cell and a quoted line break',
    column: 'Answer',
    build: () => Buffer.from(`ID,Answer\n1,"${'b'.repeat(LONGEST_CELL - 6)}\nline2"\n2,short\n`),
    expect: {
      accepted: {
        rows: 2,
        answers: [
          [2, `${'b'.repeat(LONGEST_CELL - 6)}\nline2`],
          [3, 'short'],
        ],
      },
    },
  },

  // ── Encodings and separators ────────────────────────────────────────────────────────────────────────
  {
    name: 'damaged-utf8.csv',
    what: 'UTF-8 with broken byte sequences in two rows',
    column: 'Answer',
    build: () =>
      Buffer.concat([
        Buffer.from('ID,Answer\n1,Größe passt, über alles\n2,caf'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('é\n3,fine\n4,price '),
        Buffer.from([0xe2, 0x82]),
        Buffer.from('\n'),
      ]),
    expect: {
      accepted: {
        rows: 4,
        answers: [
          [3, 'caf\uFFFD(é'],
          [5, 'price \uFFFD'],
        ],
        warnings: [{ code: 'invalid_utf8', rows: [3, 5] }],
      },
    },
  },
  {
    name: 'windows-1252.csv',
    what: 'Excel’s “CSV” on Windows: Windows-1252 with umlauts, € and curly quotes, semicolons',
    column: 'Kommentar',
    build: () =>
      Buffer.from(
        'Nr;Kommentar\r\n1;Zu teuer: 5 \x80 f\xfcr \x93nichts\x94\r\n2;ok\r\n3;Gr\xf6\xdfe\r\n',
        'latin1',
      ),
    expect: {
      accepted: {
        rows: 3,
        answers: [
          [2, 'Zu teuer: 5 € für “nichts”'],
          [3, 'ok'],
          [4, 'Größe'],
        ],
        warnings: [{ code: 'windows_1252', rows: [2, 4] }],
      },
    },
  },
  {
    name: 'utf16le-bom.csv',
    what: 'Excel’s “Unicode text”: UTF-16LE with a byte-order mark, tab-separated',
    column: 'Answer',
    build: () => Buffer.from('\uFEFFID\tAnswer\r\n1\tnaïve café\r\n2\t日本語\r\n', 'utf16le'),
    expect: {
      accepted: {
        rows: 2,
        answers: [
          [2, 'naïve café'],
          [3, '日本語'],
        ],
      },
    },
  },
  {
    name: 'utf16be-bom.csv',
    what: 'UTF-16BE with a byte-order mark',
    column: 'Answer',
    build: () => Buffer.from('\uFEFFID,Answer\n1,Ünïcödé\n', 'utf16le').swap16(),
    expect: { accepted: { rows: 1, answers: [[2, 'Ünïcödé']] } },
  },
  {
    name: 'utf16-no-bom.csv',
    what: 'UTF-16LE without a byte-order mark',
    column: 'Answer',
    build: () => Buffer.from('ID,Answer\r\n1,no mark\r\n', 'utf16le'),
    expect: {
      accepted: { rows: 1, answers: [[2, 'no mark']], warnings: [{ code: 'utf16_without_bom', rows: [] }] },
    },
  },
  {
    name: 'semicolons.csv',
    what: 'semicolon-separated, commas inside answers, a title line above the header',
    column: 'Antwort',
    build: () => Buffer.from('Umfrage 2024\nID;Antwort;Land\n1;teuer, aber gut;DE\n2;"zu; langsam";AT\n'),
    expect: {
      accepted: {
        rows: 2,
        answers: [
          [3, 'teuer, aber gut'],
          [4, 'zu; langsam'],
        ],
      },
    },
  },
  {
    name: 'tabs.csv',
    what: 'tab-separated, commas and semicolons inside answers',
    column: 'Answer',
    build: () => Buffer.from('ID\tAnswer\n1\tcheap, fast; good\n2\t"quoted\ttab"\n'),
    expect: {
      accepted: {
        rows: 2,
        answers: [
          [2, 'cheap, fast; good'],
          [3, 'quoted\ttab'],
        ],
      },
    },
  },

  // ── Cells that are not plain text ───────────────────────────────────────────────────────────────────
  {
    name: 'numbers.xlsx',
    what: 'numeric answers: integers, decimals, a float artefact, a percentage cell',
    column: 'Answer',
    build: () =>
      xlsxOf((workbook) => {
        const sheet = workbook.addWorksheet('Data');
        sheet.addRows([
          ['ID', 'Answer'],
          [1, 42],
          [2, 0.1 + 0.2],
          [3, -7.5],
          [4, 0.25],
        ]);
        sheet.getCell('B5').numFmt = '0%';
      }),
    expect: {
      accepted: {
        rows: 4,
        answers: [
          [2, '42'],
          [3, '0.3'],
          [4, '-7.5'],
          [5, '0.25'],
        ],
      },
    },
  },
  {
    name: 'formulas-cached.xlsx',
    what: 'formulas with cached results: number, text, TRUE, an error, a date',
    column: 'Answer',
    build: () =>
      handMadeXlsx({
        styles: DATE_STYLES,
        sheets: [
          {
            name: 'Data',
            data:
              header +
              '<row r="2"><c r="A2"><v>1</v></c><c r="B2"><f>6*7</f><v>42</v></c></row>' +
              '<row r="3"><c r="A3"><v>2</v></c><c r="B3" t="str"><f>UPPER("too slow")</f><v>TOO SLOW</v></c></row>' +
              '<row r="4"><c r="A4"><v>3</v></c><c r="B4" t="b"><f>1=1</f><v>1</v></c></row>' +
              '<row r="5"><c r="A5"><v>4</v></c><c r="B5" t="e"><f>NA()</f><v>#N/A</v></c></row>' +
              '<row r="6"><c r="A6"><v>5</v></c><c r="B6" s="1"><f>DATE(2024,3,5)</f><v>45356</v></c></row>' +
              '<row r="7"><c r="A7"><v>6</v></c><c r="B7" t="str"><f t="shared" ref="B7:B8" si="0">A7&amp;" apples"</f><v>6 apples</v></c></row>' +
              '<row r="8"><c r="A8"><v>7</v></c><c r="B8" t="str"><f t="shared" si="0"/><v>7 apples</v></c></row>',
          },
        ],
      }),
    expect: {
      accepted: {
        rows: 7,
        answers: [
          [2, '42'],
          [3, 'TOO SLOW'],
          [4, 'TRUE'],
          [5, '#N/A'],
          [6, '2024-03-05'],
          [7, '6 apples'],
          [8, '7 apples'],
        ],
      },
    },
  },
  {
    name: 'formulas-uncached.xlsx',
    what: 'formulas without cached results (written by a program that does not calculate)',
    column: 'Answer',
    build: () =>
      handMadeXlsx({
        sheets: [
          {
            name: 'Data',
            data:
              header +
              '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="str"><f>UPPER("cached")</f><v>CACHED</v></c></row>' +
              '<row r="3"><c r="A3"><v>2</v></c><c r="B3"><f>UPPER("never")</f></c></row>' +
              '<row r="4"><c r="A4"><v>3</v></c><c r="B4" t="inlineStr"><is><t>typed</t></is></c></row>' +
              '<row r="5"><c r="B5"><f>A4*2</f></c></row>',
          },
        ],
      }),
    expect: {
      accepted: {
        rows: 3,
        answers: [
          [2, 'CACHED'],
          [3, ''],
          [4, 'typed'],
        ],
        warnings: [{ code: 'formula_without_value', rows: [3, 5] }],
      },
    },
  },
  {
    name: 'merged-answers.xlsx',
    what: 'merged answer cells: B2:B4 down, and A6:C6 across the answer column',
    column: 'Answer',
    build: () =>
      xlsxOf((workbook) => {
        const sheet = workbook.addWorksheet('Data');
        sheet.addRow(['ID', 'Answer', 'Note']);
        for (let i = 1; i <= 6; i += 1) sheet.addRow([i, i === 2 || i === 3 ? null : `answer ${i}`]);
        sheet.getCell('B2').value = 'one answer over three rows';
        sheet.mergeCells('B2:B4');
        sheet.getCell('A6').value = 'a note across the row';
        sheet.mergeCells('A6:C6');
      }),
    expect: {
      accepted: {
        rows: 6,
        answers: [
          [2, 'one answer over three rows'],
          [3, ''],
          [4, ''],
          [6, ''],
        ],
        warnings: [{ code: 'merged_answer_cells', rows: [3, 4, 6] }],
      },
    },
  },
  {
    name: 'inline-strings.xlsx',
    what: 'inline strings: plain, rich runs, phonetic runs, CDATA, entities',
    column: 'Answer',
    build: () =>
      handMadeXlsx({
        sheets: [
          {
            name: 'Data',
            data:
              header +
              '<row r="2"><c r="B2" t="inlineStr"><is><t>plain</t></is></c></row>' +
              '<row r="3"><c r="B3" t="inlineStr"><is><r><t>Too </t></r><r><rPr><b/></rPr><t>slow</t></r></is></c></row>' +
              '<row r="4"><c r="B4" t="inlineStr"><is><t>漢字</t><rPh sb="0" eb="2"><t>カンジ</t></rPh></is></c></row>' +
              '<row r="5"><c r="B5" t="inlineStr"><is><t><![CDATA[<b>not markup</b>]]></t></is></c></row>' +
              '<row r="6"><c r="B6" t="inlineStr"><is><t>&amp;lt; stays &amp;lt;</t></is></c></row>',
          },
        ],
      }),
    expect: {
      accepted: {
        rows: 5,
        answers: [
          [2, 'plain'],
          [3, 'Too slow'],
          [4, '漢字'],
          [5, '<b>not markup</b>'],
          [6, '&lt; stays &lt;'],
        ],
      },
    },
  },
  {
    name: 'phonetic.xlsx',
    what: 'shared strings with phonetic guides (Japanese Excel) and indentation between elements',
    column: 'Answer',
    build: () =>
      handMadeXlsx({
        shared: [
          '<t>ID</t>',
          '<t>Answer</t>',
          '<t>価格が高い</t><rPh sb="0" eb="2"><t>カカク</t></rPh><phoneticPr fontId="1"/>',
          '\n  <r><t>店員</t></r>\n  <r><rPr><b/></rPr><t>が親切</t></r>\n',
        ],
        sheets: [
          {
            name: 'Data',
            data:
              '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>' +
              '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>2</v></c></row>' +
              '<row r="3"><c r="A3"><v>2</v></c><c r="B3" t="s"><v>3</v></c></row>',
          },
        ],
      }),
    expect: {
      accepted: {
        rows: 2,
        answers: [
          [2, '価格が高い'],
          [3, '店員が親切'],
        ],
      },
    },
  },
  {
    name: 'no-refs.xlsx',
    what: 'rows and cells without `r` references (optional in the format)',
    column: 'Answer',
    build: () =>
      handMadeXlsx({
        sheets: [
          {
            name: 'Data',
            data:
              inlineRow(undefined, ['ID', 'Answer']) +
              inlineRow(undefined, ['1', 'first']) +
              inlineRow(undefined, ['2', 'second']) +
              '<row r="7"><c><v>6</v></c><c t="inlineStr"><is><t>after a gap</t></is></c></row>' +
              inlineRow(undefined, ['7', 'next']),
          },
        ],
      }),
    expect: {
      accepted: {
        rows: 4,
        answers: [
          [2, 'first'],
          [3, 'second'],
          [7, 'after a gap'],
          [8, 'next'],
        ],
      },
    },
  },
  {
    name: 'prefixed.xlsx',
    what: 'a sheet written with prefixed elements (<x:row>, as the .NET Open XML SDK can)',
    column: 'Answer',
    build: () =>
      handMadeXlsx({
        sheets: [
          {
            name: 'Data',
            data:
              '<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>' +
              (header + answerRows(['prefixed answer'])).replace(/<(\/?)(row|c|is|t)\b/g, '<$1x:$2') +
              '</x:sheetData></x:worksheet>',
          },
        ],
      }),
    expect: { accepted: { rows: 1, answers: [[2, 'prefixed answer']] } },
  },
  {
    name: 'strict.xlsx',
    what: 'Strict Open XML (the purl.oclc.org namespaces), shared strings, a date as ISO text',
    column: 'Answer',
    build: () =>
      handMadeXlsx({
        strict: true,
        shared: ['<t>ID</t>', '<t>Answer</t>', '<t>strict answer</t>'],
        sheets: [
          {
            name: 'Data',
            data:
              '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>' +
              '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>2</v></c></row>' +
              '<row r="3"><c r="A3"><v>2</v></c><c r="B3" t="d"><v>2024-03-05T00:00:00Z</v></c></row>',
          },
        ],
      }),
    expect: {
      accepted: {
        rows: 2,
        answers: [
          [2, 'strict answer'],
          [3, '2024-03-05'],
        ],
      },
    },
  },
  {
    name: 'lying-dimension.xlsx',
    what: 'a <dimension> that claims A1:B2 for 500 rows, on a second sheet claiming all of A1:XFD1048576',
    column: 'Answer',
    build: () => {
      const answers = Array.from({ length: 499 }, (_, i) => `answer ${i + 1}`);
      return handMadeXlsx({
        sheets: [
          { name: 'Data', head: '<dimension ref="A1:B2"/>', data: header + answerRows(answers) },
          { name: 'Huge', head: '<dimension ref="A1:XFD1048576"/>', data: header + answerRows(['only one']) },
        ],
      });
    },
    expect: { accepted: { rows: 499, answers: [[500, 'answer 499']], sheets: 2 } },
  },
  {
    name: 'fifty-sheets.xlsx',
    what: '50 sheets, the answers on sheet 37',
    column: 'Answer',
    sheet: 'Wave 37',
    build: () =>
      handMadeXlsx({
        sheets: Array.from({ length: 50 }, (_, i) => ({
          name: `Wave ${i + 1}`,
          data: header + answerRows([`wave ${i + 1} first`, `wave ${i + 1} second`]),
        })),
      }),
    expect: {
      accepted: {
        rows: 2,
        sheet: 'Wave 37',
        sheets: 50,
        answers: [
          [2, 'wave 37 first'],
          [3, 'wave 37 second'],
        ],
      },
    },
  },
  {
    name: 'non-ascii.xlsx',
    what: '3,000 answers in German and Japanese: characters across the unpacker’s 16 KiB chunks',
    column: 'Answer',
    build: () => {
      const answers = Array.from({ length: 3_000 }, (_, i) => `Größe ${i} und 日本語のテキスト`);
      return handMadeXlsx({ sheets: [{ name: 'Data', data: header + answerRows(answers) }] });
    },
    expect: {
      accepted: {
        rows: 3_000,
        answers: Array.from({ length: 3_000 }, (_, i) => [i + 2, `Größe ${i} und 日本語のテキスト`] as const),
      },
    },
  },
  {
    name: 'no-free-column.xlsx',
    what: 'a sheet whose header reaches the last column (XFD): no room for the category column',
    column: 'Answer',
    build: () =>
      handMadeXlsx({
        sheets: [
          {
            name: 'Data',
            data:
              '<row r="1"><c r="A1" t="inlineStr"><is><t>ID</t></is></c><c r="B1" t="inlineStr"><is><t>Answer</t></is></c>' +
              '<c r="XFD1" t="inlineStr"><is><t>Last</t></is></c></row>' +
              answerRows(['an answer']),
          },
        ],
      }),
    expect: {
      refused: {
        error: InvalidWorkbookError,
        message: cannotRead('no-free-column.xlsx', 'sheet "Data" has no free column left'),
        by: ['readAnswerColumn'],
      },
    },
  },
];

// Written as a script: the corpus as files, and what each should give.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: npx tsx test/sheets/hostile-corpus.ts <folder>');
    process.exit(2);
  }
  await mkdir(dir, { recursive: true });
  for (const file of HOSTILE_FILES) {
    await writeFile(join(dir, file.name), await file.build());
    const outcome =
      'accepted' in file.expect
        ? `accepted: ${file.expect.accepted.rows} answer rows`
        : `refused: ${file.expect.refused.error.name} ${file.expect.refused.message.source}`;
    console.log(`${file.name.padEnd(24)} ${file.what}\n${''.padEnd(24)} → ${outcome}`);
  }
}
