/**
 * What a CSV field becomes in the workbook written from it, so an NPS score can be averaged and a date
 * filtered: a number, a date, or the text as it is. Only what reads one way is typed, and it shows as it was
 * written:
 *  - A number: an optional `-`, digits without a leading zero (`0` alone, or `0` before the decimal
 *    separator, is fine), optionally a decimal separator and digits; at most 15 significant digits (what
 *    Excel keeps). The separator is `.`, or `,` in a file whose decimals are commas (`sniffDecimalComma`).
 *    A decimal number gets a number format with as many decimals as written (`3.50` shows `3.50`), a long
 *    integer the format `0` (General would show 123456789012 as 1.23457E+11).
 *  - Text, as it is: leading zeros (`007`, zip codes, ids), a leading `+` (phone numbers), thousands
 *    separators, exponents, percentages, currency, spaces around, `-0`, more than 15 digits.
 *  - A date: ISO `YYYY-MM-DD`, optionally with a time `hh:mm` or `hh:mm:ss` after `T` or a space, a real
 *    calendar date from 1900 on, no time zone; written as that date and time (UTC, as exceljs reads and
 *    writes them) with the format `yyyy-mm-dd`, `yyyy-mm-dd hh:mm` or `yyyy-mm-dd hh:mm:ss`.
 */
import type { CsvFile } from './csv.js';

export interface CsvCellValue {
  readonly value: string | number | Date;
  /** The number format that shows the value as the CSV wrote it, when General would not. */
  readonly numFmt?: string;
}

const DOT_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.(\d+))?$/;
const COMMA_NUMBER = /^-?(?:0|[1-9]\d*)(?:,(\d+))?$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/;
const MAX_DIGITS = 15;
/** Integers longer than this show in General as 1.23457E+11. */
const GENERAL_DIGITS = 11;

export function csvCellValue(field: string, decimalComma: boolean): CsvCellValue {
  const number = (decimalComma ? COMMA_NUMBER : DOT_NUMBER).exec(field);
  if (number && field !== '-0') {
    const decimals = number[1]?.length ?? 0;
    const digits = field.replace(/^-/, '').replace(/[.,]/, '').replace(/^0+/, '').length;
    if (digits <= MAX_DIGITS) {
      const value = Number(decimalComma ? field.replace(',', '.') : field);
      if (decimals > 0) return { value, numFmt: `0.${'0'.repeat(decimals)}` };
      return digits > GENERAL_DIGITS ? { value, numFmt: '0' } : { value };
    }
  }
  const date = ISO_DATE.exec(field);
  if (date) {
    const [, y = '', mo = '', d = '', h, mi, s] = date;
    const parts = [y, mo, d, h ?? '0', mi ?? '0', s ?? '0'].map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const [year, month, day, hour, minute, second] = parts;
    const at = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    const real =
      year >= 1900 &&
      at.getUTCFullYear() === year &&
      at.getUTCMonth() === month - 1 &&
      at.getUTCDate() === day &&
      hour < 24 &&
      minute < 60 &&
      second < 60;
    if (real) {
      const numFmt =
        h === undefined ? 'yyyy-mm-dd' : s === undefined ? 'yyyy-mm-dd hh:mm' : 'yyyy-mm-dd hh:mm:ss';
      return { value: at, numFmt };
    }
  }
  return { value: field };
}

/** Records looked at to tell the decimal separator. */
const SNIFF_RECORDS = 1_000;

/**
 * Whether the file's decimals are commas: only a `;`-separated file can have them unquoted (Excel in
 * locales that write `3,5` separates fields with `;`), and it does when fields like `3,5` outnumber fields
 * like `3.5` in its first thousand records.
 */
export async function sniffDecimalComma(csv: CsvFile): Promise<boolean> {
  if (csv.delimiter !== ';') return false;
  let comma = 0;
  let dot = 0;
  let seen = 0;
  for await (const record of csv.records()) {
    for (const field of record.fields) {
      if (/^-?\d+,\d+$/.test(field)) comma += 1;
      else if (/^-?\d+\.\d+$/.test(field)) dot += 1;
    }
    seen += 1;
    if (seen >= SNIFF_RECORDS) break;
  }
  return comma > dot;
}
