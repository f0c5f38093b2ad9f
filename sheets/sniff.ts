/**
 * What a file is when it is not what its name says: from its first bytes, and for an Office 97–2003
 * container from its directory. So a refusal names the problem ("it is a PDF document") rather than the
 * symptom ("no zip signature").
 */
import type { SheetFormat } from '../domain/sheet-format.js';
import { CFB_SIGNATURE, compoundFileKind } from './cfb.js';

/** The bytes a sniff needs: the start of the file. */
export const SNIFF_BYTES = 512;

const MAGIC: ReadonlyArray<readonly [bytes: Buffer, what: string]> = [
  [Buffer.from('%PDF-'), 'a PDF document'],
  [Buffer.from('89504e470d0a1a0a', 'hex'), 'a PNG image'],
  [Buffer.from('ffd8ff', 'hex'), 'a JPEG image'],
  [Buffer.from('GIF8'), 'a GIF image'],
  [Buffer.from('1f8b', 'hex'), 'a gzip archive'],
  [Buffer.from('377abcaf271c', 'hex'), 'a 7-Zip archive'],
  [Buffer.from('Rar!'), 'a RAR archive'],
  [Buffer.from('{\\rtf'), 'an RTF document'],
];

/**
 * Why a file named as a spreadsheet is not one, when its content says plainly what it is instead;
 * undefined when it might be what it claims (a zip for .xlsx, text for .csv) or nothing can be said.
 */
export async function describeForeign(
  path: string,
  head: Buffer,
  expected: SheetFormat,
): Promise<string | undefined> {
  if (head.subarray(0, 8).equals(CFB_SIGNATURE)) return describeCompoundFile(path);
  for (const [bytes, what] of MAGIC) {
    if (head.subarray(0, bytes.length).equals(bytes)) return `it is ${what}, not a spreadsheet`;
  }
  if (expected === 'csv') return undefined;
  const text = head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .slice(0, 400)
    .toLowerCase();
  if (text.includes('urn:schemas-microsoft-com:office:spreadsheet')) {
    return 'it is an Excel 2003 XML spreadsheet, not an .xlsx file: open it in Excel and save it as .xlsx';
  }
  if (/^(?:<!doctype html|<html|<table)/.test(text)) {
    return 'it is a web page (HTML) saved with a spreadsheet name, not an .xlsx file: open it in Excel and save it as .xlsx';
  }
  if (looksLikeText(head)) {
    return 'it is a text file, not an .xlsx file: if it is CSV, upload it with a .csv name';
  }
  return undefined;
}

async function describeCompoundFile(path: string): Promise<string> {
  switch (await compoundFileKind(path)) {
    case 'encrypted-ooxml':
      return 'the workbook is password-protected: save it without a password (File › Info › Protect Workbook)';
    case 'xls':
      return 'it is a legacy Excel 97–2003 workbook (.xls): save it as .xlsx';
    case 'doc':
      return 'it is a Word 97–2003 document (.doc), not a spreadsheet';
    case 'ppt':
      return 'it is a PowerPoint 97–2003 presentation (.ppt), not a spreadsheet';
    case 'other':
      return 'it is an Office 97–2003 file (an .xls or a password-protected workbook?): save it as .xlsx without a password';
  }
}

/** No NUL and few control codes: text of some kind, whatever its encoding. */
function looksLikeText(head: Buffer): boolean {
  if (head.length === 0 || head.includes(0)) return false;
  let control = 0;
  for (const byte of head) if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) control += 1;
  return control * 20 < head.length;
}
