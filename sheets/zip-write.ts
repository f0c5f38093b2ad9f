/**
 * A zip writer for rewriting an .xlsx in one pass: entries copied from another zip as raw bytes (local
 * header, compressed data and data descriptor exactly as they were, so their CRC and sizes stay those of
 * the original), and new entries deflated from a buffer or a stream.
 *
 * Why our own rather than yazl, archiver (zip-stream) or zip.js: the first two deflate or store whatever
 * they are given and cannot take an entry's compressed bytes as they are, so every part of the workbook
 * would be inflated and deflated again (and come out different); zip.js can ("passThrough") but writes its
 * own local headers, through web streams. What is needed here is small: headers, a seek back to fill in
 * a streamed entry's CRC and sizes, and Zip64 records.
 *
 * Streamed entries get their CRC and sizes written back into the local header once known (no data
 * descriptor), so readers that trust local headers read them too. Zip64: the end records when the archive
 * holds 65,535 entries or more or its directory starts past 4 GiB; a central Zip64 field for any entry whose
 * sizes or offset pass 4 GiB; and a local one for a new entry only when announced as `large` (its sizes
 * are not known when its header is written), else such an entry fails clearly.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { ZlibOptions } from 'node:zlib';
import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib';

import type { ZipRecord } from './zip-records.js';
import type { CentralRecord } from './zip.js';
import {
  CENTRAL_HEADER,
  EOCD,
  LOCAL_HEADER,
  U16_MAX,
  U32_MAX,
  ZIP64_EOCD,
  ZIP64_EXTRA,
  ZIP64_LOCATOR,
} from './zip.js';
import { readAt } from './file-bytes.js';

/** What a new entry's headers say besides its data. */
export interface NewZipEntry {
  readonly name: string;
  /** MS-DOS time and date (see `dosDateTime`). */
  readonly time: number;
  readonly date: number;
  readonly versionMadeBy?: number | undefined;
  readonly externalAttributes?: number | undefined;
  readonly internalAttributes?: number | undefined;
  readonly comment?: Buffer | undefined;
}

export interface ZipWriterOptions {
  /** zlib level for new entries; default 6, as Excel and exceljs use. */
  readonly level?: number | undefined;
  /** Zip64 records even where not needed: for tests of the Zip64 paths. */
  readonly forceZip64?: boolean | undefined;
}

export class ZipEntryTooLargeError extends Error {}

const DATA_DESCRIPTOR = 0x08074b50;
const FLAG_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const FLUSH_BYTES = 1 << 20;
const COPY_CHUNK = 1 << 20;

/** A central directory record to write: its fields as read, at the offset where this writer put it. */
type CentralEntry = Omit<CentralRecord, 'name' | 'localHeaderOffset'> & { readonly offset: number };

export class ZipWriter {
  private readonly central: CentralEntry[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Where the next byte goes (written or still pending). */
  private position = 0;

  private constructor(
    private readonly file: FileHandle,
    private readonly level: number,
    private readonly forceZip64: boolean,
  ) {}

  static async create(path: string, options: ZipWriterOptions = {}): Promise<ZipWriter> {
    return new ZipWriter(await open(path, 'w'), options.level ?? 6, options.forceZip64 ?? false);
  }

  /**
   * Copies an entry of `source` as it is stored: local header, data, and data descriptor if it has one.
   * Only its offset changes, in the central directory.
   */
  async copy(source: FileHandle, record: ZipRecord, fail: (reason: string) => Error): Promise<void> {
    const start = record.localHeaderOffset;
    const header = await readAt(source, start, 30);
    if (header.length < 30 || header.readUInt32LE(0) !== LOCAL_HEADER) {
      throw fail(`the zip is damaged (no local header for ${record.name})`);
    }
    const nameLength = header.readUInt16LE(26);
    const dataStart = start + 30 + nameLength + header.readUInt16LE(28);
    const name = await readAt(source, start + 30, nameLength);
    if (!name.equals(record.nameBytes))
      throw fail(`the zip is damaged (the local header of ${record.name} names another part)`);
    let end = dataStart + record.compressedSize;
    if (header.readUInt16LE(6) & FLAG_DESCRIPTOR)
      end += descriptorLength(await readAt(source, end, 24), record, fail);

    const offset = this.position;
    for (let at = start; at < end;) {
      const chunk = await readAt(source, at, Math.min(COPY_CHUNK, end - at));
      if (chunk.length === 0) throw fail(`the zip is truncated (in ${record.name})`);
      await this.write(chunk);
      at += chunk.length;
    }
    this.central.push({ ...record, offset });
  }

  /** A new entry from bytes in memory, deflated. */
  async addBuffer(entry: NewZipEntry, data: Buffer): Promise<void> {
    const packed = deflateRawSync(data, { level: this.level });
    const crc = crc32(data);
    const zip64 = data.length >= U32_MAX || packed.length >= U32_MAX;
    const header = this.localHeader(entry, zip64, crc, packed.length, data.length);
    const offset = this.position;
    await this.write(header.bytes);
    await this.write(packed);
    this.central.push(this.centralEntry(entry, header.flags, zip64, crc, packed.length, data.length, offset));
  }

  /**
   * A new entry deflated as it streams in. `large` reserves Zip64 sizes in its local header, for an entry
   * that may pass 4 GiB; without it, passing 4 GiB throws `ZipEntryTooLargeError`.
   */
  async addStream(
    entry: NewZipEntry,
    data: AsyncIterable<Buffer> | Iterable<Buffer>,
    large = false,
  ): Promise<void> {
    const header = this.localHeader(entry, large, 0, 0, 0);
    const offset = this.position;
    await this.write(header.bytes);
    let crc = 0;
    let size = 0;
    let packedSize = 0;
    await pipeline(
      async function* () {
        for await (const chunk of data) {
          crc = crc32(chunk, crc);
          size += chunk.length;
          yield chunk;
        }
      },
      // Big pieces and a deep input buffer, so patching (this thread) and deflating (the pool) overlap.
      // (zlib hands its options to its Transform too, which its types leave out.)
      createDeflateRaw({
        level: this.level,
        chunkSize: 1 << 18,
        writableHighWaterMark: 1 << 22,
      } as ZlibOptions),
      async (packed: AsyncIterable<Buffer>) => {
        for await (const chunk of packed) {
          packedSize += chunk.length;
          await this.write(chunk);
        }
      },
    );
    if (!large && (size >= U32_MAX || packedSize >= U32_MAX)) {
      throw new ZipEntryTooLargeError(`zip entry ${entry.name} passed 4 GiB without Zip64 sizes reserved`);
    }
    // Fill in the CRC and sizes where the header left room for them.
    await this.flush();
    const sizes = Buffer.alloc(12);
    sizes.writeUInt32LE(crc, 0);
    sizes.writeUInt32LE(large ? U32_MAX : packedSize, 4);
    sizes.writeUInt32LE(large ? U32_MAX : size, 8);
    await this.writeAt(sizes, offset + 14);
    if (large) {
      const zip64 = Buffer.alloc(16);
      zip64.writeBigUInt64LE(BigInt(size), 0);
      zip64.writeBigUInt64LE(BigInt(packedSize), 8);
      await this.writeAt(zip64, offset + 30 + header.nameLength + 4);
    }
    this.central.push(this.centralEntry(entry, header.flags, large, crc, packedSize, size, offset));
  }

  /** Writes the central directory and the end records; the writer is closed after. */
  async finish(comment: Buffer = Buffer.alloc(0)): Promise<void> {
    const directoryOffset = this.position;
    for (const entry of this.central) await this.write(centralRecord(entry, this.forceZip64));
    const directorySize = this.position - directoryOffset;
    const count = this.central.length;
    const zip64 =
      this.forceZip64 || count >= U16_MAX || directoryOffset >= U32_MAX || directorySize >= U32_MAX;
    if (zip64) {
      const record = Buffer.alloc(56);
      record.writeUInt32LE(ZIP64_EOCD, 0);
      record.writeBigUInt64LE(44n, 4);
      record.writeUInt16LE(45, 12);
      record.writeUInt16LE(45, 14);
      record.writeBigUInt64LE(BigInt(count), 24);
      record.writeBigUInt64LE(BigInt(count), 32);
      record.writeBigUInt64LE(BigInt(directorySize), 40);
      record.writeBigUInt64LE(BigInt(directoryOffset), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(ZIP64_LOCATOR, 0);
      locator.writeBigUInt64LE(BigInt(this.position), 8);
      locator.writeUInt32LE(1, 16);
      await this.write(record);
      await this.write(locator);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(EOCD, 0);
    end.writeUInt16LE(zip64 ? U16_MAX : count, 8);
    end.writeUInt16LE(zip64 ? U16_MAX : count, 10);
    end.writeUInt32LE(zip64 ? U32_MAX : directorySize, 12);
    end.writeUInt32LE(zip64 ? U32_MAX : directoryOffset, 16);
    const kept = comment.subarray(0, U16_MAX);
    end.writeUInt16LE(kept.length, 20);
    await this.write(end);
    await this.write(kept);
    await this.flush();
    await this.file.close();
  }

  /** Closes the file without finishing it (after a failure). */
  async abort(): Promise<void> {
    await this.file.close().catch(() => undefined);
  }

  private localHeader(
    entry: NewZipEntry,
    zip64: boolean,
    crc: number,
    compressedSize: number,
    size: number,
  ): { bytes: Buffer; flags: number; nameLength: number } {
    const name = Buffer.from(entry.name, 'utf8');
    // Bit 11: the name is UTF-8; only said when it is not plain ASCII, as other writers do.
    const flags = name.length !== entry.name.length ? FLAG_UTF8 : 0;
    const header = Buffer.alloc(30 + name.length + (zip64 ? 20 : 0));
    header.writeUInt32LE(LOCAL_HEADER, 0);
    header.writeUInt16LE(zip64 ? 45 : 20, 4);
    header.writeUInt16LE(flags, 6);
    header.writeUInt16LE(8, 8);
    header.writeUInt16LE(entry.time, 10);
    header.writeUInt16LE(entry.date, 12);
    header.writeUInt32LE(crc, 14);
    header.writeUInt32LE(zip64 ? U32_MAX : compressedSize, 18);
    header.writeUInt32LE(zip64 ? U32_MAX : size, 22);
    header.writeUInt16LE(name.length, 26);
    header.writeUInt16LE(zip64 ? 20 : 0, 28);
    name.copy(header, 30);
    if (zip64) {
      const at = 30 + name.length;
      header.writeUInt16LE(ZIP64_EXTRA, at);
      header.writeUInt16LE(16, at + 2);
      header.writeBigUInt64LE(BigInt(size), at + 4);
      header.writeBigUInt64LE(BigInt(compressedSize), at + 12);
    }
    return { bytes: header, flags, nameLength: name.length };
  }

  private centralEntry(
    entry: NewZipEntry,
    flags: number,
    zip64: boolean,
    crc: number,
    compressedSize: number,
    uncompressedSize: number,
    offset: number,
  ): CentralEntry {
    return {
      nameBytes: Buffer.from(entry.name, 'utf8'),
      versionMadeBy: entry.versionMadeBy ?? 20,
      versionNeeded: zip64 ? 45 : 20,
      flags,
      method: 8,
      time: entry.time,
      date: entry.date,
      crc,
      compressedSize,
      uncompressedSize,
      internalAttributes: entry.internalAttributes ?? 0,
      externalAttributes: entry.externalAttributes ?? 0,
      offset,
      extra: Buffer.alloc(0),
      comment: entry.comment ?? Buffer.alloc(0),
    };
  }

  private async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.position += chunk.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const data = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    const at = this.position - this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    await this.writeAt(data, at);
  }

  private async writeAt(data: Buffer, position: number): Promise<void> {
    for (let done = 0; done < data.length;) {
      const { bytesWritten } = await this.file.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
  }
}

/** A central directory record, with a Zip64 field holding whichever of its values pass 4 GiB. */
function centralRecord(entry: CentralEntry, force: boolean): Buffer {
  const big: bigint[] = [];
  const field = (value: number): number => {
    if (value < U32_MAX && !force) return value;
    big.push(BigInt(value));
    return U32_MAX;
  };
  const uncompressed = field(entry.uncompressedSize);
  const compressed = field(entry.compressedSize);
  const offset = field(entry.offset);
  let extra = entry.extra;
  if (big.length > 0) {
    const zip64 = Buffer.alloc(4 + 8 * big.length);
    zip64.writeUInt16LE(ZIP64_EXTRA, 0);
    zip64.writeUInt16LE(8 * big.length, 2);
    big.forEach((value, i) => zip64.writeBigUInt64LE(value, 4 + 8 * i));
    extra = Buffer.concat([entry.extra, zip64]);
  }
  const name = entry.nameBytes;
  const record = Buffer.alloc(46);
  record.writeUInt32LE(CENTRAL_HEADER, 0);
  record.writeUInt16LE(entry.versionMadeBy, 4);
  record.writeUInt16LE(big.length > 0 ? Math.max(45, entry.versionNeeded) : entry.versionNeeded, 6);
  record.writeUInt16LE(entry.flags, 8);
  record.writeUInt16LE(entry.method, 10);
  record.writeUInt16LE(entry.time, 12);
  record.writeUInt16LE(entry.date, 14);
  record.writeUInt32LE(entry.crc, 16);
  record.writeUInt32LE(compressed, 20);
  record.writeUInt32LE(uncompressed, 24);
  record.writeUInt16LE(name.length, 28);
  record.writeUInt16LE(extra.length, 30);
  record.writeUInt16LE(entry.comment.length, 32);
  record.writeUInt16LE(entry.internalAttributes, 36);
  record.writeUInt32LE(entry.externalAttributes, 38);
  record.writeUInt32LE(offset, 42);
  return Buffer.concat([record, name, extra, entry.comment]);
}

/**
 * The length of the data descriptor after an entry's data: with or without its signature, with 4- or
 * 8-byte sizes. Which one is told by the CRC and sizes it must repeat.
 */
function descriptorLength(bytes: Buffer, record: ZipRecord, fail: (reason: string) => Error): number {
  const p = bytes.length >= 4 && bytes.readUInt32LE(0) === DATA_DESCRIPTOR ? 4 : 0;
  if (bytes.length >= p + 12 && bytes.readUInt32LE(p) === record.crc) {
    if (
      bytes.readUInt32LE(p + 4) === record.compressedSize &&
      bytes.readUInt32LE(p + 8) === record.uncompressedSize
    ) {
      return p + 12;
    }
    if (
      bytes.length >= p + 20 &&
      bytes.readBigUInt64LE(p + 4) === BigInt(record.compressedSize) &&
      bytes.readBigUInt64LE(p + 12) === BigInt(record.uncompressedSize)
    ) {
      return p + 20;
    }
  }
  throw fail(`the zip is damaged (the data descriptor of ${record.name} does not match its directory entry)`);
}

/** MS-DOS time and date fields for a local time (the zip format has no time zone). */
export function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.min(Math.max(date.getFullYear(), 1980), 2107);
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | Math.floor(date.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}
