/** Reading bytes at a position of an open file, for the zip and compound-file readers. */
import type { FileHandle } from 'node:fs/promises';

/** Up to `length` bytes at `position`: fewer at the end of the file. */
export async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await file.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** Offsets past 2^53 cannot occur in a file that fits on a disk; treat them as damage. */
export function toNumber(n: bigint): number {
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}
