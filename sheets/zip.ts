/**
 * Just enough of the zip format to read an .xlsx by its central directory: the names and sizes of every
 * entry (for the zip-bomb guard), and any one entry as a stream, unpacked as it is read and no further than
 * its declared size, so a directory that lies about sizes gains nothing.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import { createInflateRaw } from 'node:zlib';

import { InvalidWorkbookError } from '../domain/errors.js';
import { readAt, toNumber } from './file-bytes.js';
import { SNIFF_BYTES, describeForeign } from './sniff.js';

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  /** General purpose flags; bit 0 set: the entry is encrypted. */
  readonly flags: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

/**
 * Every field of a central directory record: what copying an entry as it is needs (`zip-records.ts`),
 * of which reading one needs only the `ZipEntry` part.
 */
export interface CentralRecord extends ZipEntry {
  /** The name as stored (its encoding follows flag bit 11, or CP437 for old writers). */
  readonly nameBytes: Buffer;
  readonly versionMadeBy: number;
  readonly versionNeeded: number;
  /** MS-DOS time and date, as stored. */
  readonly time: number;
  readonly date: number;
  readonly crc: number;
  readonly internalAttributes: number;
  readonly externalAttributes: number;
  /** Its extra fields, as stored. */
  readonly extra: Buffer;
  readonly comment: Buffer;
}

export interface ZipDirectory {
  readonly fileSize: number;
  readonly entries: readonly ZipEntry[];
}

export const DEFAULT_MAX_UNPACKED_BYTES = 2 ** 30;
/** Real sheets pack 5–50:1; deflate's ceiling is about 1030:1, which is what bombs aim for. */
const MAX_RATIO = 200;
/** Small entries (styles, a one-row sheet) may pack very well without being a threat. */
const RATIO_CHECK_ABOVE = 2 ** 20;
/** An .xlsx has tens to a few thousand entries; a directory claiming more is not a workbook. */
const MAX_ENTRIES = 100_000;
const MAX_DIRECTORY_BYTES = 64 * 2 ** 20;

/** The zip format's record signatures and field limits, for this reader and for `zip-write.ts`. */
export const EOCD = 0x06054b50;
export const ZIP64_LOCATOR = 0x07064b50;
export const ZIP64_EOCD = 0x06064b50;
export const CENTRAL_HEADER = 0x02014b50;
export const LOCAL_HEADER = 0x04034b50;
export const ZIP64_EXTRA = 0x0001;
export const U16_MAX = 0xffff;
export const U32_MAX = 0xffffffff;

/**
 * Refuses what is not a zip, and zips that would unpack to more than `maxUnpackedBytes` or pack an entry
 * suspiciously well. Sizes are those the central directory declares, so the check costs a few reads, not
 * an unpacking; `openEntry` then holds every part to its declared size, so under-declaring gains nothing.
 */
export async function inspectXlsx(
  path: string,
  displayName: string,
  maxUnpackedBytes = DEFAULT_MAX_UNPACKED_BYTES,
): Promise<ZipDirectory> {
  const directory = await readZipDirectory(path, displayName);
  const encrypted = directory.entries.find((entry) => (entry.flags & 1) === 1);
  if (encrypted) {
    throw new InvalidWorkbookError(
      displayName,
      `its part ${encrypted.name} is encrypted (a zip with a password): save the workbook without a password`,
    );
  }
  let total = 0;
  let largest: ZipEntry | undefined;
  for (const entry of directory.entries) {
    total += entry.uncompressedSize;
    if (!largest || entry.uncompressedSize > largest.uncompressedSize) largest = entry;
  }
  if (largest && total > maxUnpackedBytes) {
    const alone =
      largest.uncompressedSize === total
        ? `(all of it ${largest.name})`
        : `(${largest.name} alone ${formatBytes(largest.uncompressedSize)})`;
    throw new InvalidWorkbookError(
      displayName,
      `it would unpack to ${formatBytes(total)} ${alone} from a ${formatBytes(directory.fileSize)} file, ` +
        `past the ${formatBytes(maxUnpackedBytes)} limit; refused as a possible zip bomb`,
    );
  }
  for (const entry of directory.entries) {
    const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1);
    if (entry.uncompressedSize > RATIO_CHECK_ABOVE && ratio > MAX_RATIO) {
      throw new InvalidWorkbookError(
        displayName,
        `its part ${entry.name} would unpack from ${formatBytes(entry.compressedSize)} to ` +
          `${formatBytes(entry.uncompressedSize)} (${Math.round(ratio)}:1, more than ${MAX_RATIO}:1); refused as a possible zip bomb`,
      );
    }
  }
  return directory;
}

export async function readZipDirectory(path: string, displayName: string): Promise<ZipDirectory> {
  const fail = (reason: string) => new InvalidWorkbookError(displayName, reason);
  const file = await open(path, 'r');
  try {
    const fileSize = (await file.stat()).size;
    if (fileSize === 0) throw fail('the file is empty (0 bytes)');
    const head = await readAt(file, 0, Math.min(SNIFF_BYTES, fileSize));
    if (head.length < 4 || head.readUInt32LE(0) !== LOCAL_HEADER) {
      throw fail((await describeForeign(path, head, 'xlsx')) ?? 'not an .xlsx file (no zip signature)');
    }

    const { count, size, offset } = await readEndOfCentralDirectory(file, fileSize, fail);
    if (count > MAX_ENTRIES) throw fail(`its zip directory lists ${count} parts; a workbook has far fewer`);
    if (size > MAX_DIRECTORY_BYTES || offset + size > fileSize) {
      throw fail('the zip is truncated or damaged (central directory out of range)');
    }

    const directory = await readAt(file, offset, size);
    const records = parseCentralDirectory(directory, count, fail);
    const entries = records.map(
      ({ name, method, flags, compressedSize, uncompressedSize, localHeaderOffset }): ZipEntry => ({
        name,
        method,
        flags,
        compressedSize,
        uncompressedSize,
        localHeaderOffset,
      }),
    );
    return { fileSize, entries };
  } finally {
    await file.close();
  }
}

/** The `count` records of a central directory (`buf`), Zip64 sizes and offsets read from their extra field. */
export function parseCentralDirectory(
  buf: Buffer,
  count: number,
  fail: (reason: string) => Error,
): CentralRecord[] {
  const records: CentralRecord[] = [];
  let p = 0;
  for (let i = 0; i < count; i += 1) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL_HEADER) {
      throw fail('the zip is damaged (bad central directory entry)');
    }
    const nameLength = buf.readUInt16LE(p + 28);
    const extraLength = buf.readUInt16LE(p + 30);
    const commentLength = buf.readUInt16LE(p + 32);
    const nameBytes = Buffer.from(buf.subarray(p + 46, p + 46 + nameLength));
    const extra = Buffer.from(buf.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength));
    const name = nameBytes.toString('utf8');
    let uncompressedSize = buf.readUInt32LE(p + 24);
    let compressedSize = buf.readUInt32LE(p + 20);
    let localHeaderOffset = buf.readUInt32LE(p + 42);

    if (uncompressedSize === U32_MAX || compressedSize === U32_MAX || localHeaderOffset === U32_MAX) {
      // The Zip64 extra field holds, in this order, only the values the header marks as 0xFFFFFFFF.
      const zip64 = extraFields(extra).find((f) => f.id === ZIP64_EXTRA)?.data;
      let q = 0;
      const next = (): number => {
        if (!zip64 || q + 8 > zip64.length) {
          throw fail(`it is a Zip64 archive and the sizes of its part ${name} are unknown`);
        }
        const value = toNumber(zip64.readBigUInt64LE(q));
        q += 8;
        return value;
      };
      if (uncompressedSize === U32_MAX) uncompressedSize = next();
      if (compressedSize === U32_MAX) compressedSize = next();
      if (localHeaderOffset === U32_MAX) localHeaderOffset = next();
    }
    records.push({
      name,
      nameBytes,
      versionMadeBy: buf.readUInt16LE(p + 4),
      versionNeeded: buf.readUInt16LE(p + 6),
      flags: buf.readUInt16LE(p + 8),
      method: buf.readUInt16LE(p + 10),
      time: buf.readUInt16LE(p + 12),
      date: buf.readUInt16LE(p + 14),
      crc: buf.readUInt32LE(p + 16),
      compressedSize,
      uncompressedSize,
      internalAttributes: buf.readUInt16LE(p + 36),
      externalAttributes: buf.readUInt32LE(p + 38),
      localHeaderOffset,
      extra,
      comment: Buffer.from(
        buf.subarray(p + 46 + nameLength + extraLength, p + 46 + nameLength + extraLength + commentLength),
      ),
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return records;
}

/**
 * An entry's content, unpacked as it is read. Ending the read early (destroying the stream, or leaving a
 * `for await` over it) closes the file. Unpacking past the declared size fails with `InvalidWorkbookError`
 * as soon as the first byte too many comes out, whatever the zip's headers say (their sizes passed the
 * limit in `inspectXlsx`, so no part unpacks past it); so does a part that ends short of it.
 */
export function openEntry(path: string, entry: ZipEntry, displayName: string): Readable {
  return Readable.from(entryChunks(path, entry, displayName), { objectMode: false });
}

async function* entryChunks(path: string, entry: ZipEntry, displayName: string): AsyncGenerator<Buffer> {
  if (entry.method !== 0 && entry.method !== 8) {
    throw new InvalidWorkbookError(
      displayName,
      `its part ${entry.name} uses zip method ${entry.method}, not deflate`,
    );
  }
  const dataStart = await localDataStart(path, entry, displayName);
  // An empty part has no data to read (a read stream's range cannot be empty).
  const raw =
    entry.compressedSize === 0
      ? Readable.from([])
      : createReadStream(path, { start: dataStart, end: dataStart + entry.compressedSize - 1 });
  const source =
    entry.method === 8 && entry.compressedSize > 0 ? pipeline(raw, createInflateRaw(), () => undefined) : raw;
  let unpacked = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      unpacked += chunk.length;
      if (unpacked > entry.uncompressedSize) {
        throw new InvalidWorkbookError(
          displayName,
          `its part ${entry.name} unpacks to more than the ${formatBytes(entry.uncompressedSize)} its zip directory declares: ` +
            'the zip lies about its sizes; refused as a possible zip bomb',
        );
      }
      yield chunk;
    }
    if (unpacked < entry.uncompressedSize) {
      throw new InvalidWorkbookError(
        displayName,
        `its part ${entry.name} is damaged: it unpacks to ${formatBytes(unpacked)} of the ` +
          `${formatBytes(entry.uncompressedSize)} its zip directory declares (a truncated file?)`,
      );
    }
  } catch (error) {
    if (error instanceof InvalidWorkbookError) throw error;
    throw new InvalidWorkbookError(
      displayName,
      `its part ${entry.name} is damaged (${(error as Error).message})`,
    );
  } finally {
    raw.destroy();
    source.destroy();
  }
}

/** The first `maxBytes` (or fewer) of an entry as text; only that much is unpacked. */
export async function readEntryHead(
  path: string,
  entry: ZipEntry,
  displayName: string,
  maxBytes: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of openEntry(path, entry, displayName) as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    length += chunk.length;
    if (length >= maxBytes) break;
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

async function localDataStart(path: string, entry: ZipEntry, displayName: string): Promise<number> {
  const file = await open(path, 'r');
  try {
    const header = await readAt(file, entry.localHeaderOffset, 30);
    if (header.length < 30 || header.readUInt32LE(0) !== LOCAL_HEADER) {
      throw new InvalidWorkbookError(displayName, `the zip is damaged (no local header for ${entry.name})`);
    }
    const start = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    if (start + entry.compressedSize > (await file.stat()).size) {
      throw new InvalidWorkbookError(
        displayName,
        `the zip is truncated or damaged (its part ${entry.name} reaches past the end of the file)`,
      );
    }
    return start;
  } finally {
    await file.close();
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export interface EndOfCentralDirectory {
  readonly count: number;
  readonly size: number;
  readonly offset: number;
  /** The archive comment. */
  readonly comment: Buffer;
}

/** The end record (Zip64's when the classic one overflows): where the central directory is, how big. */
export async function readEndOfCentralDirectory(
  file: FileHandle,
  fileSize: number,
  fail: (reason: string) => Error,
): Promise<EndOfCentralDirectory> {
  const tailLength = Math.min(fileSize, 22 + U16_MAX);
  const tail = await readAt(file, fileSize - tailLength, tailLength);
  const eocd = findEndOfCentralDirectory(tail);
  if (eocd === -1) throw fail('the zip is truncated or damaged (no end of central directory)');
  const comment = Buffer.from(tail.subarray(eocd + 22, eocd + 22 + tail.readUInt16LE(eocd + 20)));
  const count = tail.readUInt16LE(eocd + 10);
  const size = tail.readUInt32LE(eocd + 12);
  const offset = tail.readUInt32LE(eocd + 16);
  if (count !== U16_MAX && size !== U32_MAX && offset !== U32_MAX) return { count, size, offset, comment };
  const locator = eocd - 20;
  if (locator < 0 || tail.readUInt32LE(locator) !== ZIP64_LOCATOR) {
    throw fail('it is a Zip64 archive whose Zip64 end record is missing, so its sizes are unknown');
  }
  const record = await readAt(file, toNumber(tail.readBigUInt64LE(locator + 8)), 56);
  if (record.length < 56 || record.readUInt32LE(0) !== ZIP64_EOCD) {
    throw fail('it is a Zip64 archive whose Zip64 end record is damaged, so its sizes are unknown');
  }
  return {
    count: toNumber(record.readBigUInt64LE(32)),
    size: toNumber(record.readBigUInt64LE(40)),
    offset: toNumber(record.readBigUInt64LE(48)),
    comment,
  };
}

function findEndOfCentralDirectory(tail: Buffer): number {
  for (let i = tail.length - 22; i >= 0; i -= 1) {
    if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) return i;
  }
  return -1;
}

/** An extra field block split into its fields; a field cut short by the end keeps what is there. */
export function extraFields(extra: Buffer): Array<{ id: number; data: Buffer }> {
  const fields: Array<{ id: number; data: Buffer }> = [];
  for (let p = 0; p + 4 <= extra.length;) {
    const size = extra.readUInt16LE(p + 2);
    fields.push({ id: extra.readUInt16LE(p), data: extra.subarray(p + 4, p + 4 + size) });
    p += 4 + size;
  }
  return fields;
}
