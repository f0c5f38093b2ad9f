/**
 * Reading a codeframe file: the text form (`.txt` and anything else: one category a line, `[Net]` lines),
 * or a table (`.xlsx`, `.csv`) with columns `code`, `label`, `description`, `net` in its first row (header
 * names matched without case; only `label` is required). The rules are domain/categories.ts's.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import type { Category, CodeframeRow } from '../domain/categories.js';
import { categoriesFromRows, parseCategories } from '../domain/categories.js';
import { columnLetter } from '../domain/columns.js';
import { CodeframeColumnsError, DomainError, EmptyCategoriesError } from '../domain/errors.js';
import type { SheetFormat } from '../domain/sheet-format.js';
import { cellText } from './cells.js';
import { openSheet } from './sources.js';

/** The columns a codeframe table may have, as its header row names them. */
const COLUMNS = ['code', 'label', 'description', 'net'] as const;

/** Reads the codeframe at `file`; errors name `displayName` (the path as the person gave it) and the line or row. */
export async function readCodeframeFile(file: string, displayName = file): Promise<Category[]> {
  const format = tableFormat(file);
  if (!format)
    return parseCategories(await notFoundAsDomain(readFile(file, 'utf8'), displayName), displayName);
  await notFoundAsDomain(stat(file), displayName);
  const sheet = await openSheet({ path: file, displayName, format });
  let columns: Partial<Record<(typeof COLUMNS)[number], number>> | undefined;
  const rows: CodeframeRow[] = [];
  for await (const raw of sheet.rows) {
    const cells = Array.from({ length: raw.values.length }, (_, i) => cellText(raw.values[i]).trim());
    if (!columns) {
      if (cells.every((c) => c === '')) continue;
      const found = Object.fromEntries(
        COLUMNS.map((name) => [name, cells.findIndex((c) => c.toLowerCase() === name)]).filter(
          ([, i]) => i !== -1,
        ),
      ) as Partial<Record<(typeof COLUMNS)[number], number>>;
      if (found.label === undefined) {
        throw new CodeframeColumnsError(
          displayName,
          raw.number,
          cells.flatMap((c, i) => (c ? [`${columnLetter(i + 1)} ${JSON.stringify(c)}`] : [])),
        );
      }
      columns = found;
      continue;
    }
    const at = (i: number | undefined) => (i === undefined ? undefined : (cells[i] ?? ''));
    rows.push({
      row: raw.number,
      label: at(columns.label) ?? '',
      ...(columns.code !== undefined ? { code: at(columns.code) } : {}),
      ...(columns.description !== undefined ? { description: at(columns.description) } : {}),
      ...(columns.net !== undefined ? { net: at(columns.net) } : {}),
    });
  }
  if (!columns) throw new EmptyCategoriesError(displayName);
  return categoriesFromRows(rows, displayName);
}

function tableFormat(file: string): SheetFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.xlsx' || ext === '.xlsm') return 'xlsx';
  if (ext === '.csv') return 'csv';
  return undefined;
}

/** A missing file is named as the person gave it, as a categories file (not an input file). */
async function notFoundAsDomain<T>(read: Promise<T>, displayName: string): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DomainError(
        'categories_file_not_found',
        `Categories file not found: ${displayName}`,
        'categories',
      );
    }
    throw error;
  }
}
