/**
 * CSV as a one-sheet workbook: decoding, delimiter sniffing, streaming records, and writing them back.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Readable, pipeline } from 'node:stream';

import { parse } from 'csv-parse';

import { InvalidWorkbookError } from '../domain/errors.js';
import type { SheetWarning } from '../domain/sheet-warnings.js';
import { describeRows } from '../domain/sheet-warnings.js';
import { asWorkbookError } from './files.js';
import { describeForeign } from './sniff.js';
import { ReadWarnings } from './warnings.js';

export type CsvEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export interface CsvRecord {
  /** 1-based record number: the sheet row it becomes. */
  readonly number: number;
  readonly fields: readonly string[];
}

export interface CsvFile {
  readonly delimiter: string;
  readonly encoding: CsvEncoding;
  /** Streams the records; stopping early closes the file. Each call reads the file again. */
  records(): AsyncGenerator<CsvRecord, void, undefined>;
  /**
   * What the reading noticed about the encoding: the rows it concerns, among those the last `records()`
   * has read so far (all of them once it has run to the end).
   */
  warnings(): SheetWarning[];
}

const SAMPLE_BYTES = 64 * 1024;
const DELIMITERS = [',', ';', '\t'] as const;

export async function openCsv(path: string, displayName: string): Promise<CsvFile> {
  const sample = await readSample(path);
  const { encoding, problem } = await detectEncoding(path, sample, displayName);
  const delimiter = sniffDelimiter(textDecoder(encoding).decode(sample));
  let notes = new ReadWarnings();

  async function* records(): AsyncGenerator<CsvRecord, void, undefined> {
    const parser = parse({
      delimiter,
      // Excel writes CRLF; other tools LF; a file edited by both has both.
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: true,
      // Free-text answers hold stray quotes (`5" screen`): keep them as text rather than fail.
      relax_quotes: true,
      skip_empty_lines: false,
    });
    pipeline(Readable.from(decode(path, encoding)), parser, () => undefined);
    notes = new ReadWarnings();
    if (problem === 'utf16_without_bom') notes.note(problem, undefined, () => UTF16_WITHOUT_BOM);
    let number = 0;
    try {
      for await (const fields of parser as AsyncIterable<string[]>) {
        number += 1;
        if (problem === 'windows_1252' && fields.some((f) => NOT_ASCII.test(f))) {
          notes.note(problem, number, windows1252Message);
        } else if (problem === 'invalid_utf8' && fields.some((f) => f.includes('\uFFFD'))) {
          notes.note(problem, number, invalidUtf8Message);
        }
        yield { number, fields };
      }
    } catch (error) {
      throw asWorkbookError(error, displayName, 'CSV: ');
    }
  }

  return { delimiter, encoding, records, warnings: () => notes.list() };
}

const NOT_ASCII = /[\u0080-\uffff]/;

function windows1252Message(rows: readonly number[], count: number): string {
  return (
    'The file is not UTF-8 text, so it was read as Windows-1252 (what Excel on Windows saves as "CSV"): ' +
    `${describeRows(rows, count)} ${count === 1 ? 'holds' : 'hold'} characters outside ASCII. Check that ` +
    `${count === 1 ? 'it reads' : 'they read'} right, or save the file as "CSV UTF-8".`
  );
}

function invalidUtf8Message(rows: readonly number[], count: number): string {
  return (
    'The file is not valid UTF-8 text (nor Windows-1252): ' +
    `${describeRows(rows, count)} ${count === 1 ? 'holds' : 'hold'} bytes that are no character, read as ` +
    '"\uFFFD". Save the file as "CSV UTF-8".'
  );
}

const UTF16_WITHOUT_BOM =
  'The file is UTF-16 text without a byte-order mark (recognised by its zero bytes) and was read as such.';

/** The sheet name a CSV file gets: its name without extension, within Excel's 31 characters and rules. */
export function csvSheetName(displayName: string): string {
  const base = basename(displayName, extname(displayName))
    .replace(/[[\]:*?/\\]/g, '_')
    .replace(/^'+|'+$/g, '')
    .trim()
    .slice(0, 31);
  return base || 'Sheet1';
}

/**
 * One CSV line (without its line break): RFC 4180 quoting. With `escapeFormulas`, text a spreadsheet would
 * take for a formula (`=`, `+`, `-`, `@`, tab, CR first) is prefixed with `'`; plain numbers such as `-3.5`
 * cannot run anything and stay numbers.
 */
export function csvLine(fields: readonly string[], delimiter: string, escapeFormulas: boolean): string {
  return fields
    .map((field) => quoteField(escapeFormulas ? escapeFormula(field) : field, delimiter))
    .join(delimiter);
}

function escapeFormula(field: string): string {
  if (!/^[=+\-@\t\r]/.test(field) || PLAIN_NUMBER.test(field)) return field;
  return `'${field}`;
}

const PLAIN_NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

function quoteField(field: string, delimiter: string): string {
  const needsQuotes = field.includes(delimiter) || /["\r\n]/.test(field) || field !== field.trim();
  return needsQuotes ? `"${field.replaceAll('"', '""')}"` : field;
}

/**
 * The delimiter is the most frequent of `,` `;` tab on the first line that has any, quoted text not
 * counted (a title line above the header may have none). Ties go to the comma.
 */
export function sniffDelimiter(text: string): string {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const ch of text.replace(/^\uFEFF/, '')) {
    if (ch === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (ch === '\n' || ch === '\r') {
      if (counts.size > 0) break;
    } else if ((DELIMITERS as readonly string[]).includes(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best: string = ',';
  for (const d of DELIMITERS) if ((counts.get(d) ?? 0) > (counts.get(best) ?? 0)) best = d;
  return best;
}

type EncodingProblem = 'windows_1252' | 'invalid_utf8' | 'utf16_without_bom';

/**
 * UTF-8 (the default), UTF-16 when a byte-order mark says so (Excel's "Unicode text") or when every other
 * byte is zero, or Windows-1252 when the file is not valid UTF-8 but reads cleanly as that (Excel's plain
 * "CSV" on Windows), so umlauts are not lost. The whole file is checked, not a sample: an export whose only
 * accent comes after the first 64 KiB is still read right. Binary files are refused, saying what they are.
 */
async function detectEncoding(
  path: string,
  sample: Buffer,
  displayName: string,
): Promise<{ encoding: CsvEncoding; problem?: EncodingProblem }> {
  if (sample.length === 0) throw new InvalidWorkbookError(displayName, 'the file is empty (0 bytes)');
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return { encoding: 'utf-8' };
  if (sample[0] === 0xff && sample[1] === 0xfe) return { encoding: 'utf-16le' };
  if (sample[0] === 0xfe && sample[1] === 0xff) return { encoding: 'utf-16be' };
  if (sample.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    throw new InvalidWorkbookError(displayName, 'it is a zip (an .xlsx?), not CSV text; upload it as .xlsx');
  }
  const foreign = await describeForeign(path, sample, 'csv');
  if (foreign) throw new InvalidWorkbookError(displayName, foreign);
  const utf16 = utf16WithoutBom(sample);
  if (utf16) return { encoding: utf16, problem: 'utf16_without_bom' };

  const bytes = await scanBytes(path);
  if (bytes.invalid === 0) {
    if (isBinary(sample, true)) throw binaryFile(displayName);
    return { encoding: 'utf-8' };
  }
  if (isBinary(sample, false)) throw binaryFile(displayName);
  // Mostly well-formed UTF-8 with a few broken bytes is damaged UTF-8, not another encoding.
  if (bytes.undefinedIn1252 === 0 && bytes.multibyte <= bytes.invalid) {
    return { encoding: 'windows-1252', problem: 'windows_1252' };
  }
  return { encoding: 'utf-8', problem: 'invalid_utf8' };
}

function binaryFile(displayName: string): InvalidWorkbookError {
  return new InvalidWorkbookError(displayName, 'it is a binary file, not CSV text');
}

/**
 * Text has few control codes; NUL, a bell or an escape inside a cell is text a spreadsheet opens. A file
 * is binary when control codes are a quarter of its start, or a twentieth of it when it is not UTF-8.
 */
function isBinary(sample: Buffer, validUtf8: boolean): boolean {
  let control = 0;
  for (const byte of sample) {
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) || byte === 0x7f) control += 1;
  }
  return control * (validUtf8 ? 4 : 20) > sample.length;
}

/** ASCII in UTF-16 is every other byte zero: on the odd bytes (little-endian) or the even ones. */
function utf16WithoutBom(sample: Buffer): CsvEncoding | undefined {
  const pairs = Math.floor(sample.length / 2);
  if (pairs < 2) return undefined;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i + 1 < sample.length; i += 2) {
    if (sample[i] === 0) evenZero += 1;
    if (sample[i + 1] === 0) oddZero += 1;
  }
  if (oddZero >= 0.4 * pairs && evenZero <= 0.05 * pairs) return 'utf-16le';
  if (evenZero >= 0.4 * pairs && oddZero <= 0.05 * pairs) return 'utf-16be';
  return undefined;
}

interface ByteCounts {
  /** Ill-formed UTF-8 sequences. */
  invalid: number;
  /** Well-formed multi-byte UTF-8 sequences. */
  multibyte: number;
  /** Bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D). */
  undefinedIn1252: number;
}

/**
 * One pass over the file. Valid UTF-8 (the usual case) is confirmed by the platform's decoder; only a file
 * that is not is counted byte by byte, to tell Windows-1252 from damaged UTF-8.
 */
async function scanBytes(path: string): Promise<ByteCounts> {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      fatal.decode(chunk, { stream: true });
    }
    fatal.decode();
    return { invalid: 0, multibyte: 0, undefinedIn1252: 0 };
  } catch {
    const counts: ByteCounts = { invalid: 0, multibyte: 0, undefinedIn1252: 0 };
    const utf8 = new Utf8Counter(counts);
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) utf8.feed(chunk);
    utf8.end();
    return counts;
  }
}

/** UTF-8's well-formedness table (Unicode 15, table 3-7) as a byte-at-a-time counter. */
class Utf8Counter {
  private need = 0;
  private lower = 0x80;
  private upper = 0xbf;

  constructor(private readonly counts: ByteCounts) {}

  feed(chunk: Buffer): void {
    for (const byte of chunk) {
      if (UNDEFINED_IN_1252.has(byte)) this.counts.undefinedIn1252 += 1;
      if (this.need > 0) {
        if (byte >= this.lower && byte <= this.upper) {
          this.lower = 0x80;
          this.upper = 0xbf;
          this.need -= 1;
          if (this.need === 0) this.counts.multibyte += 1;
          continue;
        }
        // The sequence broke off: it is one error, and this byte starts afresh.
        this.counts.invalid += 1;
        this.need = 0;
        this.lower = 0x80;
        this.upper = 0xbf;
      }
      if (byte < 0x80) continue;
      if (byte >= 0xc2 && byte <= 0xdf) this.need = 1;
      else if (byte >= 0xe0 && byte <= 0xef) {
        this.need = 2;
        if (byte === 0xe0) this.lower = 0xa0;
        if (byte === 0xed) this.upper = 0x9f;
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        this.need = 3;
        if (byte === 0xf0) this.lower = 0x90;
        if (byte === 0xf4) this.upper = 0x8f;
      } else this.counts.invalid += 1;
    }
  }

  end(): void {
    if (this.need > 0) this.counts.invalid += 1;
  }
}

const UNDEFINED_IN_1252 = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

/** Decodes the file as it streams; the byte-order mark is dropped. Bytes that are not UTF-8 read as U+FFFD. */
async function* decode(path: string, encoding: CsvEncoding): AsyncGenerator<string> {
  const decoder = textDecoder(encoding);
  const stream = createReadStream(path);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = decoder.decode(chunk);
      if (text) yield text;
    }
    const rest = decoder.end();
    if (rest) yield rest;
  } finally {
    stream.destroy();
  }
}

interface ChunkDecoder {
  decode(chunk: Buffer): string;
  end(): string;
}

function textDecoder(encoding: CsvEncoding): ChunkDecoder {
  if (encoding === 'windows-1252') {
    // Node's TextDecoder decodes windows-1252 as Latin-1, which turns € and curly quotes into control codes.
    const decode = (chunk: Buffer) =>
      chunk.toString('latin1').replace(/[\u0080-\u009f]/g, (c) => CP1252_80_9F[c.charCodeAt(0) - 0x80] ?? c);
    return { decode, end: () => '' };
  }
  const decoder = new TextDecoder(encoding);
  return { decode: (chunk) => decoder.decode(chunk, { stream: true }), end: () => decoder.decode() };
}

const CP1252_80_9F = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

async function readSample(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buf = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await file.read(buf, 0, SAMPLE_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
