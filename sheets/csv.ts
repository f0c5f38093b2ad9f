/**
 * CSV as a one-sheet workbook: decoding, delimiter sniffing, streaming records, and writing them back.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Readable, pipeline } from 'node:stream';

import { parse } from 'csv-parse';

import { InvalidWorkbookError } from '../domain/errors.js';
import { asWorkbookError } from './files.js';

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
}

const SAMPLE_BYTES = 64 * 1024;
const DELIMITERS = [',', ';', '\t'] as const;

export async function openCsv(path: string, displayName: string): Promise<CsvFile> {
  const sample = await readSample(path);
  const encoding = detectEncoding(sample, displayName);
  const delimiter = sniffDelimiter(textDecoder(encoding, false).decode(sample));

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
    pipeline(Readable.from(decode(path, encoding, displayName)), parser, () => undefined);
    let number = 0;
    try {
      for await (const fields of parser as AsyncIterable<string[]>) {
        number += 1;
        yield { number, fields };
      }
    } catch (error) {
      throw asWorkbookError(error, displayName, 'CSV: ');
    }
  }

  return { delimiter, encoding, records };
}

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

/**
 * UTF-8 (the default), UTF-16 when a byte-order mark says so (Excel's "Unicode text"), or Windows-1252 when
 * the start of the file is not valid UTF-8 (Excel's plain "CSV" on Windows), so umlauts are not lost.
 */
function detectEncoding(sample: Buffer, displayName: string): CsvEncoding {
  if (sample[0] === 0xff && sample[1] === 0xfe) return 'utf-16le';
  if (sample[0] === 0xfe && sample[1] === 0xff) return 'utf-16be';
  if (sample.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    throw new InvalidWorkbookError(displayName, 'it is a zip (an .xlsx?), not CSV text; upload it as .xlsx');
  }
  if (sample.includes(0)) throw new InvalidWorkbookError(displayName, 'it is a binary file, not CSV text');
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    return 'utf-8';
  } catch {
    return 'windows-1252';
  }
}

/** Decodes the file as it streams; the byte-order mark is dropped. Invalid UTF-8 past the sample is an error. */
async function* decode(path: string, encoding: CsvEncoding, displayName: string): AsyncGenerator<string> {
  const decoder = textDecoder(encoding, true);
  const stream = createReadStream(path);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = decoder.decode(chunk);
      if (text) yield text;
    }
    const rest = decoder.end();
    if (rest) yield rest;
  } catch (error) {
    if (error instanceof TypeError) {
      throw new InvalidWorkbookError(displayName, 'it is not valid UTF-8 text; save it as "CSV UTF-8"');
    }
    throw error;
  } finally {
    stream.destroy();
  }
}

interface ChunkDecoder {
  decode(chunk: Buffer): string;
  end(): string;
}

function textDecoder(encoding: CsvEncoding, fatal: boolean): ChunkDecoder {
  if (encoding === 'windows-1252') {
    // Node's TextDecoder decodes windows-1252 as Latin-1, which turns € and curly quotes into control codes.
    const decode = (chunk: Buffer) =>
      chunk.toString('latin1').replace(/[\u0080-\u009f]/g, (c) => CP1252_80_9F[c.charCodeAt(0) - 0x80] ?? c);
    return { decode, end: () => '' };
  }
  const decoder = new TextDecoder(encoding, { fatal: fatal && encoding === 'utf-8' });
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
