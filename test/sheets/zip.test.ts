import { writeFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { inspectXlsx, previewSheets, readAnswerColumn } from '../../sheets/index.js';
import { InvalidWorkbookError } from '../../domain/errors.js';
import type { TempDir } from './fixtures.js';
import { makeCompoundFile, makeZip, saveWorkbook, surveyWorkbook, tempDir } from './fixtures.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => dir.remove());

const GiB = 2 ** 30;

async function zipFile(name: string, entries: Parameters<typeof makeZip>[0]): Promise<string> {
  const path = dir.file(name);
  await writeFile(path, makeZip(entries));
  return path;
}

describe('inspectXlsx, the zip-bomb guard', () => {
  it('passes a real workbook and reports its parts', async () => {
    const path = await saveWorkbook(surveyWorkbook(), dir.file('survey.xlsx'));
    const directory = await inspectXlsx(path, 'survey.xlsx');
    expect(directory.entries.map((e) => e.name)).toContain('xl/worksheets/sheet2.xml');
  });

  it('refuses a zip whose directory claims more than the limit, naming file and sizes', async () => {
    const path = await zipFile('claims.xlsx', [
      { name: 'xl/worksheets/sheet1.xml', data: Buffer.from('<worksheet/>'), declaredSize: 3 * GiB },
    ]);
    await expect(inspectXlsx(path, 'claims.xlsx')).rejects.toThrow(
      /^claims\.xlsx cannot be read as a spreadsheet: it would unpack to 3\.0 GiB \(all of it xl\/worksheets\/sheet1\.xml\) from a \d+ B file, past the 1\.0 GiB limit; refused as a possible zip bomb$/,
    );
    // Under a higher limit the same entry is still refused: 14 bytes do not unpack to 3 GiB.
    await expect(inspectXlsx(path, 'claims.xlsx', 4 * GiB)).rejects.toThrow(/possible zip bomb/);
  });

  it('refuses an entry packed far better than real sheets pack', async () => {
    const path = await zipFile('zeros.xlsx', [
      { name: 'xl/sharedStrings.xml', data: Buffer.alloc(4 * 2 ** 20) },
    ]);
    const error = await inspectXlsx(path, 'zeros.xlsx').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidWorkbookError);
    expect((error as Error).message).toMatch(
      /its part xl\/sharedStrings\.xml would unpack from [\d.]+ KiB to 4\.0 MiB \(\d+:1, more than 200:1\); refused as a possible zip bomb/,
    );
    // Small parts may pack that well: styles, a one-row sheet.
    const small = await zipFile('small.xlsx', [{ name: 'xl/styles.xml', data: Buffer.alloc(512 * 1024) }]);
    await expect(inspectXlsx(small, 'small.xlsx')).resolves.toBeDefined();
  });

  it('reads Zip64 sizes, and refuses Zip64 entries whose sizes are missing', async () => {
    const good = await zipFile('zip64.xlsx', [
      { name: 'a.xml', data: Buffer.from('<a/>'), declaredSize: 5 * GiB, zip64: 'extra' },
    ]);
    await expect(inspectXlsx(good, 'zip64.xlsx')).rejects.toThrow('it would unpack to 5.0 GiB');
    const broken = await zipFile('broken64.xlsx', [
      { name: 'a.xml', data: Buffer.from('<a/>'), zip64: 'broken' },
    ]);
    await expect(inspectXlsx(broken, 'broken64.xlsx')).rejects.toThrow(
      'broken64.xlsx cannot be read as a spreadsheet: it is a Zip64 archive and the sizes of its part a.xml are unknown',
    );
  });

  it('refuses what is not a zip, saying what it is when it can', async () => {
    const path = dir.file('empty.xlsx');
    await writeFile(path, '');
    await expect(inspectXlsx(path, 'empty.xlsx')).rejects.toThrow(
      'empty.xlsx cannot be read as a spreadsheet: the file is empty (0 bytes)',
    );
    const noise = dir.file('noise.xlsx');
    await writeFile(noise, Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    await expect(inspectXlsx(noise, 'noise.xlsx')).rejects.toThrow('not an .xlsx file (no zip signature)');
  });

  it('tells a password-protected workbook from a legacy .xls by the container’s directory', async () => {
    const locked = dir.file('locked.xlsx');
    await writeFile(locked, makeCompoundFile(['EncryptionInfo', 'EncryptedPackage']));
    await expect(inspectXlsx(locked, 'locked.xlsx')).rejects.toThrow(
      'locked.xlsx cannot be read as a spreadsheet: the workbook is password-protected: save it without a password',
    );
    const old = dir.file('old.xlsx');
    await writeFile(old, makeCompoundFile(['Workbook', '\u0005SummaryInformation']));
    await expect(inspectXlsx(old, 'old.xlsx')).rejects.toThrow(
      'it is a legacy Excel 97–2003 workbook (.xls): save it as .xlsx',
    );
  });

  it('refuses a zip whose entries are encrypted, and a part that unpacks short of its declared size', async () => {
    const zipped = makeZip([{ name: 'xl/workbook.xml', data: Buffer.from('<workbook/>') }]);
    zipped.writeUInt16LE(0x0801, zipped.indexOf(Buffer.from('504b0102', 'hex')) + 8);
    const locked = dir.file('zipcrypto.xlsx');
    await writeFile(locked, zipped);
    await expect(inspectXlsx(locked, 'zipcrypto.xlsx')).rejects.toThrow(
      'its part xl/workbook.xml is encrypted (a zip with a password): save the workbook without a password',
    );
    const short = await zipFile('short.xlsx', [
      { name: 'xl/workbook.xml', data: Buffer.from('<workbook/>'), declaredSize: 100 },
      { name: 'xl/_rels/workbook.xml.rels', data: Buffer.from('<Relationships/>') },
    ]);
    await expect(
      readAnswerColumn({ path: short, displayName: 'short.xlsx', format: 'xlsx', column: 'A' }),
    ).rejects.toThrow(
      'its part xl/workbook.xml is damaged: it unpacks to 11 B of the 100 B its zip directory declares',
    );
  });

  it('runs before the reader: a bomb never reaches exceljs', async () => {
    const path = await zipFile('bomb.xlsx', [
      { name: 'xl/worksheets/sheet1.xml', data: Buffer.alloc(3 * 2 ** 20, 0x20) },
    ]);
    await expect(
      readAnswerColumn({ path, displayName: 'bomb.xlsx', format: 'xlsx', column: 'A' }),
    ).rejects.toThrow(/possible zip bomb/);
    await expect(previewSheets({ path, displayName: 'bomb.xlsx', format: 'xlsx' })).rejects.toThrow(
      /possible zip bomb/,
    );
    const survey = await saveWorkbook(surveyWorkbook(), dir.file('limit.xlsx'));
    await expect(
      readAnswerColumn({
        path: survey,
        displayName: 'limit.xlsx',
        format: 'xlsx',
        column: 'E2',
        maxUnpackedBytes: 1000,
      }),
    ).rejects.toThrow(/past the 1000 B limit/);
  });
});
