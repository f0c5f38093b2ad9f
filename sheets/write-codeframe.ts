/**
 * categories.xlsx: the drafted codeframe as a table people review and edit (code, label, description, net,
 * estimated share, up to three example answers), in its first sheet, whose first row names the columns as
 * the codeframe reader matches them. An `About` sheet says where it came from; readers ignore it.
 */
import ExcelJS from 'exceljs';

export interface CodeframeWorkbookInput {
  readonly header: readonly string[];
  readonly rows: ReadonlyArray<ReadonlyArray<string | number>>;
  /** The column (0-based) holding shares as fractions, shown as percentages. */
  readonly shareColumn: number;
  /** Lines of the About sheet: [what, value]. */
  readonly about: ReadonlyArray<readonly [string, string]>;
}

const WIDTHS = [7, 30, 60, 20, 10, 45, 45, 45];

export async function writeCodeframeWorkbook(file: string, input: CodeframeWorkbookInput): Promise<void> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'verbatim';
  const sheet = workbook.addWorksheet('Codeframe', { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.addRow([...input.header]);
  sheet.getRow(1).font = { bold: true };
  for (const row of input.rows) sheet.addRow([...row]);
  input.header.forEach((_, i) => {
    const column = sheet.getColumn(i + 1);
    column.width = WIDTHS[i] ?? 20;
    column.alignment = { vertical: 'top', wrapText: i >= 2 };
  });
  sheet.getColumn(input.shareColumn + 1).numFmt = '0.0%';
  const about = workbook.addWorksheet('About');
  for (const [what, value] of input.about) about.addRow([what, value]);
  about.getColumn(1).width = 22;
  about.getColumn(2).width = 100;
  about.getColumn(1).font = { bold: true };
  await workbook.xlsx.writeFile(file);
}
