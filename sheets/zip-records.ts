/**
 * Every field of a zip's central directory, which copying an entry as it is needs (its CRC, flags, times,
 * attributes, extra fields and comment) and `zip.ts`'s `ZipEntry` leaves out. The size guard stays
 * `inspectXlsx`'s: call it first; `readZipRecords` checks that it describes the same entries.
 */
import { open } from 'node:fs/promises';

import { InvalidWorkbookError } from '../domain/errors.js';
import type { ZipDirectory } from './zip.js';
import { readAt, toNumber } from './file-bytes.js';
import { readEndOfCentralDirectory } from './zip.js';

export interface ZipRecord {
  readonly name: string;
  /** The name as stored (its encoding follows flag bit 11, or CP437 for old writers). */
  readonly nameBytes: Buffer;
  readonly versionMadeBy: number;
  readonly versionNeeded: number;
  readonly flags: number;
  readonly method: number;
  /** MS-DOS time and date, as stored. */
  readonly time: number;
  readonly date: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly internalAttributes: number;
  readonly externalAttributes: number;
  readonly localHeaderOffset: number;
  /** Extra fields without the Zip64 one, which a writer recomputes. */
  readonly extra: Buffer;
  readonly comment: Buffer;
}

export interface ZipRecords {
  readonly records: readonly ZipRecord[];
  /** The archive comment. */
  readonly comment: Buffer;
}

const CENTRAL_HEADER = 0x02014b50;
export const ZIP64_EXTRA = 0x0001;
const U32_MAX = 0xffffffff;

/** The central directory of a zip that `inspectXlsx` has already passed (`directory`). */
export async function readZipRecords(
  path: string,
  displayName: string,
  directory: ZipDirectory,
): Promise<ZipRecords> {
  const fail = (reason: string) => new InvalidWorkbookError(displayName, reason);
  const file = await open(path, 'r');
  try {
    const fileSize = (await file.stat()).size;
    const { count, size, offset, comment } = await readEndOfCentralDirectory(file, fileSize, fail);
    // inspectXlsx bounded the count and the directory's size; a different answer means the file changed.
    if (count !== directory.entries.length || offset + size > fileSize) {
      throw fail('its zip directory changed while it was being read');
    }
    const records = parseRecords(await readAt(file, offset, size), count, fail);
    records.forEach((record, i) => {
      const entry = directory.entries[i];
      if (entry?.name !== record.name || entry.localHeaderOffset !== record.localHeaderOffset) {
        throw fail('its zip directory changed while it was being read');
      }
    });
    return { records, comment };
  } finally {
    await file.close();
  }
}

function parseRecords(buf: Buffer, count: number, fail: (reason: string) => Error): ZipRecord[] {
  const records: ZipRecord[] = [];
  let p = 0;
  for (let i = 0; i < count; i += 1) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL_HEADER) {
      throw fail('the zip is damaged (bad central directory entry)');
    }
    const nameLength = buf.readUInt16LE(p + 28);
    const extraLength = buf.readUInt16LE(p + 30);
    const commentLength = buf.readUInt16LE(p + 32);
    const nameBytes = Buffer.from(buf.subarray(p + 46, p + 46 + nameLength));
    const extra = buf.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength);
    const name = nameBytes.toString('utf8');
    let uncompressedSize = buf.readUInt32LE(p + 24);
    let compressedSize = buf.readUInt32LE(p + 20);
    let localHeaderOffset = buf.readUInt32LE(p + 42);
    if (uncompressedSize === U32_MAX || compressedSize === U32_MAX || localHeaderOffset === U32_MAX) {
      // The Zip64 field holds, in this order, only the values the header marks as 0xFFFFFFFF.
      const zip64 = extraFields(extra).find((f) => f.id === ZIP64_EXTRA)?.data;
      let q = 0;
      const next = (): number => {
        if (!zip64 || q + 8 > zip64.length) throw fail(`the Zip64 sizes of its part ${name} are missing`);
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
      extra: withoutField(extra, ZIP64_EXTRA),
      comment: Buffer.from(
        buf.subarray(p + 46 + nameLength + extraLength, p + 46 + nameLength + extraLength + commentLength),
      ),
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return records;
}

export function extraFields(extra: Buffer): Array<{ id: number; data: Buffer }> {
  const fields: Array<{ id: number; data: Buffer }> = [];
  for (let p = 0; p + 4 <= extra.length;) {
    const size = extra.readUInt16LE(p + 2);
    fields.push({ id: extra.readUInt16LE(p), data: extra.subarray(p + 4, p + 4 + size) });
    p += 4 + size;
  }
  return fields;
}

/** The extra fields without those of type `id`; a field cut short by the end keeps what is there. */
export function withoutField(extra: Buffer, id: number): Buffer {
  const kept = extraFields(extra).filter((f) => f.id !== id);
  return Buffer.concat(
    kept.flatMap((f) => {
      const head = Buffer.alloc(4);
      head.writeUInt16LE(f.id, 0);
      head.writeUInt16LE(f.data.length, 2);
      return [head, f.data];
    }),
  );
}
