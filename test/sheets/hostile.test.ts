/**
 * Every file of the hostile corpus through the entry points the service uses: `inspectColumn` when a job
 * starts, `readAnswerColumn` when it is prepared (and the prompt copy prepareJob makes of each answer),
 * `previewSheets` for the web page's column picker. Each file must be accepted with the right rows or
 * refused with a message naming the problem. Reading is bounded by design (streaming, size guards, linear
 * parsers); the test timeout is only a guard against a runaway (a job once ran past 300 s).
 */
import { writeFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tokenCounter } from '../../activities/tokens.js';
import { sheetFormatOf } from '../../domain/sheet-format.js';
import { cleanForModel } from '../../domain/text.js';
import { inspectColumn, previewSheets, readAnswerColumn } from '../../sheets/index.js';
import type { TempDir } from './fixtures.js';
import { tempDir } from './fixtures.js';
import type { EntryPoint, HostileFile } from './hostile-corpus.js';
import { HOSTILE_FILES } from './hostile-corpus.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => dir.remove());

const ENTRY_POINTS: readonly EntryPoint[] = ['inspectColumn', 'readAnswerColumn', 'previewSheets'];

async function run(file: HostileFile, entry: EntryPoint): Promise<unknown> {
  const path = dir.file(file.name);
  const input = {
    path,
    displayName: file.name,
    format: sheetFormatOf(file.name),
    column: file.column,
    sheet: file.sheet,
    maxUnpackedBytes: file.maxUnpackedBytes,
  };
  if (entry === 'inspectColumn') return inspectColumn(input);
  if (entry === 'readAnswerColumn') return readAnswerColumn(input);
  return previewSheets(input);
}

describe('the hostile corpus', () => {
  it('has a file for each case, every name once', () => {
    const names = HOSTILE_FILES.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThanOrEqual(50);
  });

  it.each(HOSTILE_FILES.map((file) => [file.name, file] as const))(
    '%s',
    async (_name, file) => {
      await writeFile(dir.file(file.name), await file.build());

      if ('refused' in file.expect) {
        const { error, message, by = ENTRY_POINTS } = file.expect.refused;
        for (const entry of ENTRY_POINTS) {
          const outcome = run(file, entry);
          if (by.includes(entry)) {
            const thrown = await outcome.then(
              () => new Error(`${entry} accepted ${file.name}`),
              (e: unknown) => e,
            );
            expect(thrown, entry).toBeInstanceOf(error);
            expect((thrown as Error).message, entry).toMatch(message);
          } else {
            await expect(outcome, entry).resolves.toBeDefined();
          }
        }
        return;
      }

      const expected = file.expect.accepted;
      const located = await inspectColumn({
        path: dir.file(file.name),
        displayName: file.name,
        format: sheetFormatOf(file.name),
        column: file.column,
        sheet: file.sheet,
      });
      if (expected.sheet) expect(located.sheet).toBe(expected.sheet);

      const column = await readAnswerColumn({
        path: dir.file(file.name),
        displayName: file.name,
        format: sheetFormatOf(file.name),
        column: file.column,
        sheet: file.sheet,
      });
      expect(column.rows).toHaveLength(expected.rows);
      const byRow = new Map(column.rows.map((r) => [r.row, r.answer]));
      for (const [row, answer] of expected.answers ?? []) expect(byRow.get(row), `row ${row}`).toBe(answer);
      expect(column.warnings.map((w) => ({ code: w.code, rows: w.rows }))).toEqual(expected.warnings ?? []);
      for (const warning of column.warnings) {
        // The message names the rows it is about.
        for (const row of warning.rows.slice(0, 2))
          expect(warning.message).toMatch(new RegExp(`(?<!\\d)${row}(?!\\d)`));
      }
      for (const [row, text] of expected.sentToModel ?? []) {
        expect(cleanForModel(byRow.get(row) ?? ''), `row ${row}`).toBe(text);
      }

      // What prepareJob makes of the answers: cleaned prompt copies, their tokens counted.
      const count = await tokenCounter('gpt-4o-mini');
      let tokens = 0;
      for (const r of column.rows) {
        const prompt = cleanForModel(r.answer);
        const n = count(prompt);
        // Tokens for every answer with text, none for an empty one (a merged or uncached cell).
        expect(n > 0, `row ${r.row}`).toBe(prompt !== '');
        tokens += n;
      }
      expect(tokens).toBeGreaterThan(0);

      const preview = await previewSheets({
        path: dir.file(file.name),
        displayName: file.name,
        format: sheetFormatOf(file.name),
        sheet: file.sheet,
      });
      expect(preview.sheets).toHaveLength(expected.sheets ?? 1);
      expect(preview.columns.some((c) => c.header === column.header)).toBe(true);
    },
    30_000,
  );
});
