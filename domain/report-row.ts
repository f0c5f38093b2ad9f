/** A row of a report sheet: text and numbers; a number under a header starting with `%` is a fraction. */
export type ReportCell = string | number | null;
export type ReportRow = readonly ReportCell[];
