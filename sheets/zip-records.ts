/**
 * Every field of a zip's central directory, which copying an entry as it is needs (its CRC, flags, times,
 * attributes, extra fields and comment) and `zip.ts`'s `ZipEntry` leaves out; both are read by `zip.ts`'s
 * `parseCentralDirectory`. The size guard stays `inspectXlsx`'s: call it first; `readZipRecords` checks that
 * it describes the same entries.
 */
import { open } from 'node:fs/promises';

import { InvalidWorkbookError } from '../domain/errors.js';
import type { CentralRecord, ZipDirectory } from './zip.js';
import { readAt } from './file-bytes.js';
import { ZIP64_EXTRA, extraFields, parseCentralDirectory, readEndOfCentralDirectory } from './zip.js';

export interface ZipRecord extends CentralRecord {
  /** Extra fields without the Zip64 one, which a writer recomputes. */
  readonly extra: Buffer;
}

export interface ZipRecords {
  readonly records: readonly ZipRecord[];
  /** The archive comment. */
  readonly comment: Buffer;
}

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
    const records = parseCentralDirectory(await readAt(file, offset, size), count, fail).map(
      (record): ZipRecord => ({ ...record, extra: withoutField(record.extra, ZIP64_EXTRA) }),
    );
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
