/**
 * The two pieces of exceljs 4.4 (pinned) that our own sheet parser reuses, which its type declarations
 * leave out: the row class (so parsed rows are the rows the rest of exceljs, and our writer, know) and
 * the date-format test (so a cell reads as a date exactly when exceljs's own readers say it does).
 */
declare module 'exceljs/lib/doc/row.js' {
  import type { Row as ExcelRow } from 'exceljs';

  const Row: new (worksheet: unknown, number: number) => ExcelRow;
  export default Row;
}

declare module 'exceljs/lib/utils/utils.js' {
  const utils: {
    isDateFmt(format: string | undefined): boolean;
    excelToDate(serial: number, date1904: boolean | undefined): Date;
  };
  export default utils;
}
