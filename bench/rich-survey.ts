/**
 * A survey workbook of any size, written as a stream the way Excel lays one out, holding everything the
 * coded output must keep: shared strings, styles, a frozen pane, widths, a filter, merged cells, a data
 * validation, hyperlinks (external and to a cell), a note (comments part and its VML drawing), defined names,
 * and a second sheet with merges and a hyperlink of its own. Answers (column B, header `E2`) come from
 * `answerOf`; rows whose answer is empty are every `BLANK_EVERY`th.
 */
import { dosDateTime, ZipWriter } from '../sheets/zip-write.js';

export const RICH_SHEET = 'Data';
export const BLANK_EVERY = 97;
/** The parts the coded output rewrites: every other part must come back as stored. */
export const EDITED_PARTS = [
  'xl/worksheets/sheet1.xml',
  'xl/workbook.xml',
  'xl/_rels/workbook.xml.rels',
  '[Content_Types].xml',
  'xl/styles.xml',
];

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL = 'http://schemas.openxmlformats.org/package/2006/relationships';
const CT = 'application/vnd.openxmlformats-officedocument';
const DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n';

/** Data row `i` (1-based; sheet row i + 1): its ID, its score, and whether its answer is blank. */
export function richRow(i: number): { id: number; score: number; blank: boolean } {
  return { id: 100_000 + i, score: i % 11, blank: i % BLANK_EVERY === 0 };
}

export async function writeRichSurvey(
  file: string,
  rows: number,
  answerOf: (i: number) => string,
): Promise<void> {
  const zip = await ZipWriter.create(file);
  const stamp = dosDateTime(new Date(2024, 0, 1));
  const add = (name: string, xml: string) => zip.addBuffer({ name, ...stamp }, Buffer.from(xml, 'utf8'));
  const last = rows + 1;
  try {
    await add(
      '[Content_Types].xml',
      `${DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
        `<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        `<Default Extension="vml" ContentType="${CT}.vmlDrawing"/>` +
        `<Override PartName="/xl/workbook.xml" ContentType="${CT}.spreadsheetml.sheet.main+xml"/>` +
        `<Override PartName="/xl/worksheets/sheet1.xml" ContentType="${CT}.spreadsheetml.worksheet+xml"/>` +
        `<Override PartName="/xl/worksheets/sheet2.xml" ContentType="${CT}.spreadsheetml.worksheet+xml"/>` +
        `<Override PartName="/xl/styles.xml" ContentType="${CT}.spreadsheetml.styles+xml"/>` +
        `<Override PartName="/xl/sharedStrings.xml" ContentType="${CT}.spreadsheetml.sharedStrings+xml"/>` +
        `<Override PartName="/xl/comments1.xml" ContentType="${CT}.spreadsheetml.comments+xml"/>` +
        `<Override PartName="/docProps/app.xml" ContentType="${CT}.extended-properties+xml"/></Types>`,
    );
    await add(
      '_rels/.rels',
      `${DECL}<Relationships xmlns="${PKG_REL}">` +
        `<Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/>` +
        `<Relationship Id="rId2" Type="${REL}/extended-properties" Target="docProps/app.xml"/></Relationships>`,
    );
    await add(
      'docProps/app.xml',
      `${DECL}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">` +
        '<Application>Microsoft Excel</Application></Properties>',
    );
    await add(
      'xl/workbook.xml',
      `${DECL}<workbook xmlns="${MAIN}" xmlns:r="${REL}"><bookViews><workbookView activeTab="0"/></bookViews><sheets>` +
        `<sheet name="${RICH_SHEET}" sheetId="1" r:id="rId1"/><sheet name="Notes" sheetId="2" r:id="rId2"/></sheets>` +
        '<definedNames>' +
        `<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">${RICH_SHEET}!$A$1:$C$${last}</definedName>` +
        `<definedName name="NoteCell">Notes!$A$1</definedName>` +
        `<definedName name="Scores">${RICH_SHEET}!$C$2:$C$${last}</definedName>` +
        '</definedNames><calcPr calcId="191029"/></workbook>',
    );
    await add(
      'xl/_rels/workbook.xml.rels',
      `${DECL}<Relationships xmlns="${PKG_REL}">` +
        `<Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/>` +
        `<Relationship Id="rId2" Type="${REL}/worksheet" Target="worksheets/sheet2.xml"/>` +
        `<Relationship Id="rId3" Type="${REL}/styles" Target="styles.xml"/>` +
        `<Relationship Id="rId4" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
    );
    await add(
      'xl/styles.xml',
      `${DECL}<styleSheet xmlns="${MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="000000"/></numFmts>` +
        '<fonts count="3"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><color rgb="FFFFFFFF"/><name val="Calibri"/></font>' +
        '<font><u/><sz val="11"/><color rgb="FF0563C1"/><name val="Calibri"/></font></fonts>' +
        '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>' +
        '<fill><patternFill patternType="solid"><fgColor rgb="FF4472C4"/><bgColor indexed="64"/></patternFill></fill></fills>' +
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
        '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' +
        '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>' +
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
        '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>' +
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>',
    );
    await zip.addStream({ name: 'xl/worksheets/sheet1.xml', ...stamp }, dataSheet(rows));
    await add(
      'xl/worksheets/_rels/sheet1.xml.rels',
      `${DECL}<Relationships xmlns="${PKG_REL}">` +
        `<Relationship Id="rId1" Type="${REL}/hyperlink" Target="https://example.com/respondent/1" TargetMode="External"/>` +
        `<Relationship Id="rId2" Type="${REL}/vmlDrawing" Target="../drawings/vmlDrawing1.vml"/>` +
        `<Relationship Id="rId3" Type="${REL}/comments" Target="../comments1.xml"/></Relationships>`,
    );
    await add(
      'xl/comments1.xml',
      `${DECL}<comments xmlns="${MAIN}"><authors><author>Analyst</author></authors><commentList>` +
        '<comment ref="A2" authorId="0"><text><r><t>Checked by the analyst</t></r></text></comment>' +
        '</commentList></comments>',
    );
    await add(
      'xl/drawings/vmlDrawing1.vml',
      '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" ' +
        'xmlns:x="urn:schemas-microsoft-com:office:excel"><v:shape type="#_x0000_t202" style="visibility:hidden">' +
        '<x:ClientData ObjectType="Note"><x:Row>1</x:Row><x:Column>0</x:Column></x:ClientData></v:shape></xml>',
    );
    await add(
      'xl/worksheets/sheet2.xml',
      `${DECL}<worksheet xmlns="${MAIN}" xmlns:r="${REL}"><dimension ref="A1:C3"/><sheetData>` +
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Notes on the survey</t></is></c></row>' +
        '<row r="3"><c r="A3" s="3" t="inlineStr"><is><t>Methodology</t></is></c></row></sheetData>' +
        '<mergeCells count="1"><mergeCell ref="A3:C3"/></mergeCells>' +
        '<hyperlinks><hyperlink ref="A3" r:id="rId1"/></hyperlinks></worksheet>',
    );
    await add(
      'xl/worksheets/_rels/sheet2.xml.rels',
      `${DECL}<Relationships xmlns="${PKG_REL}">` +
        `<Relationship Id="rId1" Type="${REL}/hyperlink" Target="https://example.com/method" TargetMode="External"/></Relationships>`,
    );
    await zip.addStream({ name: 'xl/sharedStrings.xml', ...stamp }, sharedStrings(rows, answerOf));
    await zip.finish();
  } catch (error) {
    await zip.abort();
    throw error;
  }
}

/** Shared strings: 0–2 the headers, 3 the merged note, then data row i's answer at 3 + i. */
function* dataSheet(rows: number): Generator<Buffer> {
  const last = rows + 1;
  yield Buffer.from(
    `${DECL}<worksheet xmlns="${MAIN}" xmlns:r="${REL}"><dimension ref="A1:G${last}"/>` +
      '<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>' +
      '<sheetFormatPr defaultRowHeight="15"/>' +
      '<cols><col min="1" max="1" width="12" customWidth="1"/><col min="2" max="2" width="60" customWidth="1"/></cols><sheetData>' +
      '<row r="1" spans="1:3"><c r="A1" s="1" t="s"><v>0</v></c><c r="B1" s="1" t="s"><v>1</v></c><c r="C1" s="1" t="s"><v>2</v></c></row>',
    'utf8',
  );
  let chunk = '';
  for (let i = 1; i <= rows; i += 1) {
    const r = i + 1;
    const row = richRow(i);
    const answer = row.blank ? '' : `<c r="B${r}" t="s"><v>${3 + i}</v></c>`;
    const note = r === 2 ? `<c r="F2" t="s"><v>3</v></c>` : '';
    const link = r <= 3 ? ' s="3"' : ' s="2"';
    chunk +=
      `<row r="${r}" spans="1:3"><c r="A${r}"${link}><v>${row.id}</v></c>${answer}` +
      `<c r="C${r}"><v>${row.score}</v></c>${note}</row>`;
    if (chunk.length > 1 << 20) {
      yield Buffer.from(chunk, 'utf8');
      chunk = '';
    }
  }
  yield Buffer.from(
    `${chunk}</sheetData><autoFilter ref="A1:C${last}"/>` +
      '<mergeCells count="2"><mergeCell ref="F2:G2"/><mergeCell ref="F4:G5"/></mergeCells>' +
      `<dataValidations count="1"><dataValidation type="whole" allowBlank="1" showErrorMessage="1" sqref="C2:C${last}">` +
      '<formula1>0</formula1><formula2>10</formula2></dataValidation></dataValidations>' +
      `<hyperlinks><hyperlink ref="A2" r:id="rId1"/><hyperlink ref="A3" location="Notes!A1" display="Notes"/></hyperlinks>` +
      '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>' +
      '<legacyDrawing r:id="rId2"/></worksheet>',
    'utf8',
  );
}

function* sharedStrings(rows: number, answerOf: (i: number) => string): Generator<Buffer> {
  const count = rows + 4;
  let chunk =
    `${DECL}<sst xmlns="${MAIN}" count="${count}" uniqueCount="${count}">` +
    '<si><t>ID</t></si><si><t>E2</t></si><si><t>Score</t></si><si><t>Merged note</t></si>';
  for (let i = 1; i <= rows; i += 1) {
    chunk += `<si><t xml:space="preserve">${escape(answerOf(i))}</t></si>`;
    if (chunk.length > 1 << 20) {
      yield Buffer.from(chunk, 'utf8');
      chunk = '';
    }
  }
  yield Buffer.from(`${chunk}</sst>`, 'utf8');
}

function escape(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}
