/**
 * Just enough of the OLE compound file format ([MS-CFB]) to tell what an Office 97–2003 container holds:
 * the names in its directory. A password-protected .xlsx is such a container (an `EncryptionInfo` and an
 * `EncryptedPackage` stream), and so is a legacy .xls workbook (a `Workbook` or `Book` stream).
 */
import { open } from 'node:fs/promises';

import { readAt } from './file-bytes.js';

export const CFB_SIGNATURE = Buffer.from('d0cf11e0a1b11ae1', 'hex');

const END_OF_CHAIN = 0xfffffffe;
const HEADER_DIFAT_ENTRIES = 109;
const DIRECTORY_ENTRY_BYTES = 128;
/** Directory chains longer than this are damage (or a loop): real files have a few sectors of names. */
const MAX_DIRECTORY_SECTORS = 4_096;

/** What an Office 97–2003 container is, by the streams its directory names. */
export type CompoundFileKind = 'encrypted-ooxml' | 'xls' | 'doc' | 'ppt' | 'other';

export async function compoundFileKind(path: string): Promise<CompoundFileKind> {
  const names = new Set(await compoundFileNames(path).catch(() => []));
  if (names.has('EncryptedPackage') || names.has('EncryptionInfo')) return 'encrypted-ooxml';
  if (names.has('Workbook') || names.has('Book')) return 'xls';
  if (names.has('WordDocument')) return 'doc';
  if (names.has('PowerPoint Document')) return 'ppt';
  return 'other';
}

/** The names of every storage and stream in the file's directory (empty when the header is damaged). */
export async function compoundFileNames(path: string): Promise<string[]> {
  const file = await open(path, 'r');
  try {
    const header = await readAt(file, 0, 512);
    if (header.length < 512 || !header.subarray(0, 8).equals(CFB_SIGNATURE)) return [];
    const shift = header.readUInt16LE(0x1e);
    if (shift !== 9 && shift !== 12) return [];
    const sectorSize = 2 ** shift;
    const sectorAt = (n: number) => (n + 1) * sectorSize;
    const size = (await file.stat()).size;
    const sectors = Math.floor(size / sectorSize);

    // The FAT's own sectors are listed in the header (the first 109) and then in a chain of DIFAT sectors.
    const fatSectors: number[] = [];
    for (let i = 0; i < HEADER_DIFAT_ENTRIES; i += 1) fatSectors.push(header.readUInt32LE(0x4c + 4 * i));
    let difat = header.readUInt32LE(0x44);
    for (let hops = 0; difat < sectors && hops < sectors; hops += 1) {
      const block = await readAt(file, sectorAt(difat), sectorSize);
      for (let p = 0; p + 4 < block.length; p += 4) fatSectors.push(block.readUInt32LE(p));
      difat = block.length >= 4 ? block.readUInt32LE(block.length - 4) : END_OF_CHAIN;
    }
    const fat: number[] = [];
    for (const sector of fatSectors.filter((s) => s < sectors)) {
      const block = await readAt(file, sectorAt(sector), sectorSize);
      for (let p = 0; p + 4 <= block.length; p += 4) fat.push(block.readUInt32LE(p));
    }

    const names: string[] = [];
    let sector = header.readUInt32LE(0x30);
    for (let hops = 0; sector < sectors && hops < MAX_DIRECTORY_SECTORS; hops += 1) {
      const block = await readAt(file, sectorAt(sector), sectorSize);
      for (let p = 0; p + DIRECTORY_ENTRY_BYTES <= block.length; p += DIRECTORY_ENTRY_BYTES) {
        const length = Math.min(block.readUInt16LE(p + 0x40), 64);
        if (length >= 2 && block[p + 0x42] !== 0) {
          names.push(block.toString('utf16le', p, p + length - 2));
        }
      }
      sector = fat[sector] ?? END_OF_CHAIN;
    }
    return names;
  } finally {
    await file.close();
  }
}
