/**
 * Checks that a coded workbook kept what it must: every part but the edited ones identical as stored (local
 * header and compressed bytes), and in the coded sheet, whatever follows the rows (filter, merges,
 * validations, hyperlinks, the note's drawing) and its views identical too. Reads files by ranges, so a
 * million-row workbook costs no more memory than its largest part's compressed bytes.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

import type { ZipEntry } from '../sheets/zip.js';
import { openEntry, readZipDirectory } from '../sheets/zip.js';

export interface PartsCheck {
  /** Parts compared byte for byte as stored. */
  readonly identical: readonly string[];
  readonly problems: readonly string[];
}

export async function checkKeptParts(
  input: string,
  output: string,
  edited: readonly string[],
  codedSheet: string,
): Promise<PartsCheck> {
  const [before, after] = await Promise.all([
    readZipDirectory(input, input),
    readZipDirectory(output, output),
  ]);
  const outputs = new Map(after.entries.map((e) => [e.name, e]));
  const identical: string[] = [];
  const problems: string[] = [];
  const [a, b] = await Promise.all([open(input, 'r'), open(output, 'r')]);
  try {
    for (const entry of before.entries) {
      if (edited.includes(entry.name)) continue;
      const copy = outputs.get(entry.name);
      if (!copy) problems.push(`${entry.name} is missing from the output`);
      else if (!(await sameStored(a, entry, b, copy))) problems.push(`${entry.name} differs`);
      else identical.push(entry.name);
    }
  } finally {
    await a.close();
    await b.close();
  }
  const sheetIn = before.entries.find((e) => e.name === codedSheet);
  const sheetOut = outputs.get(codedSheet);
  if (!sheetIn || !sheetOut) problems.push(`no ${codedSheet}`);
  else {
    const [x, y] = await Promise.all([ends(input, sheetIn), ends(output, sheetOut)]);
    if (x.tail !== y.tail) problems.push(`${codedSheet}: what follows the rows changed`);
    if (x.views !== y.views) problems.push(`${codedSheet}: its views changed`);
  }
  return { identical, problems };
}

/** Local header, name, extra field and compressed data of two entries compared, 1 MiB at a time. */
async function sameStored(a: FileHandle, x: ZipEntry, b: FileHandle, y: ZipEntry): Promise<boolean> {
  const [lx, ly] = await Promise.all([storedLength(a, x), storedLength(b, y)]);
  if (lx !== ly) return false;
  const size = 1 << 20;
  for (let done = 0; done < lx; done += size) {
    const n = Math.min(size, lx - done);
    const [p, q] = await Promise.all([
      read(a, x.localHeaderOffset + done, n),
      read(b, y.localHeaderOffset + done, n),
    ]);
    if (!p.equals(q)) return false;
  }
  return true;
}

async function storedLength(file: FileHandle, entry: ZipEntry): Promise<number> {
  const header = await read(file, entry.localHeaderOffset, 30);
  return 30 + header.readUInt16LE(26) + header.readUInt16LE(28) + entry.compressedSize;
}

async function read(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** The sheet's `<sheetViews>` and everything after `</sheetData>`, unpacked as a stream. */
async function ends(path: string, entry: ZipEntry): Promise<{ views: string; tail: string }> {
  let head = '';
  let tail = '';
  for await (const chunk of openEntry(path, entry, path).setEncoding('latin1') as AsyncIterable<string>) {
    if (head.length < 65_536) head += chunk.slice(0, 65_536 - head.length);
    tail = (tail + chunk).slice(-(1 << 20));
  }
  const views = /<sheetViews>.*?<\/sheetViews>/s.exec(head)?.[0] ?? '';
  const at = tail.lastIndexOf('</sheetData>');
  return { views, tail: at === -1 ? '' : tail.slice(at) };
}
