import ExcelJS from 'exceljs';
import { expect } from 'vitest';
import type { Category } from '../../domain/categories.js';
import { expectedLabel } from '../../simulator/index.js';

/** Categories whose descriptions carry the keywords the simulator's deterministic rule matches. */
export const CATEGORIES: Category[] = [
  { name: 'Price', description: 'price, expensive, cheap, cost' },
  { name: 'Delivery', description: 'delivery, late, courier, parcel' },
  { name: 'Quality', description: 'quality, broken, fresh, stale' },
  { name: 'Service', description: 'service, staff, rude, helpful' },
  { name: 'App', description: 'app, website, login, checkout' },
];

const PHRASES = [
  'the price was too high',
  'way too expensive for me',
  'cheap and cheerful',
  'delivery came late again',
  'the courier lost my parcel',
  'quality is great',
  'arrived broken',
  'bread was stale',
  'staff were rude',
  'service was helpful',
  'the app keeps crashing',
  'login never works on the website',
  'nothing to add really',
  'I just like it',
  'my neighbour told me about you',
];

/** Deterministic answers: distinct texts (`#n` suffix), a share of exact duplicates, blanks and placeholders. */
export function makeAnswers(
  count: number,
  options: { duplicates?: number; blanks?: number; placeholders?: number } = {},
): Array<string | null> {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const out: Array<string | null> = [];
  for (let i = 0; i < count; i += 1) {
    const r = random();
    if (r < (options.blanks ?? 0)) out.push(null);
    else if (r < (options.blanks ?? 0) + (options.placeholders ?? 0))
      out.push(['-', 'n/a', '#N/A', '?'][i % 4] ?? '-');
    else if (i > 0 && r < (options.blanks ?? 0) + (options.placeholders ?? 0) + (options.duplicates ?? 0)) {
      // The same answer again, in another case and spacing: sent once.
      const earlier = out.findLast((a) => a && !['-', 'n/a', '#N/A', '?'].includes(a)) ?? 'cheap';
      out.push(`  ${earlier.toUpperCase()} `);
    } else out.push(`${PHRASES[Math.floor(random() * PHRASES.length)] ?? 'ok'} #${i + 1}`);
  }
  return out;
}

export interface SurveyFile {
  /** Sheet row number of each answer, in order. */
  readonly rows: number[];
}

/**
 * A survey export as people send them: a title row, the header row below it (answer column E headed
 * `E2`), other columns around it, and optionally a half-filled `E2 category` column.
 */
export async function writeSurvey(
  file: string,
  answers: ReadonlyArray<string | null>,
  options: { coded?: ReadonlyMap<number, string> } = {},
): Promise<SurveyFile> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Data');
  sheet.getCell('A1').value = 'Customer survey, test export';
  const header = ['ID', 'Country', 'Score', 'Age', 'E2', 'Weight'];
  if (options.coded) header.push('E2 category');
  sheet.getRow(2).values = header;
  const rows: number[] = [];
  answers.forEach((answer, i) => {
    const row = 3 + i;
    rows.push(row);
    const values: Array<string | number | null> = [
      `R${1000 + i}`,
      ['UK', 'DE', 'FR'][i % 3] ?? 'UK',
      i % 11,
      '25-34',
      answer,
      1 + (i % 3) / 10,
    ];
    if (options.coded) values.push(options.coded.get(i) ?? null);
    sheet.getRow(row).values = values;
  });
  await workbook.xlsx.writeFile(file);
  return { rows };
}

export function expected(answer: string | null): string {
  return expectedLabel(answer ?? '', CATEGORIES);
}

/** Reads a sheet of the output as rows of cell texts (1-based row numbers, 1-based columns). */
export async function readOutput(file: string): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(file);
  return workbook;
}

export function cellText(sheet: ExcelJS.Worksheet, row: number, column: string): string {
  return sheet.getCell(`${column}${row}`).text;
}

/**
 * Every answer row exactly once, in its place, coded: the `Data` sheet holds the title, the header and one
 * row per answer, each with its original id (column A) and the simulator's label (`E2 category`, G).
 */
export function expectEveryRowCoded(
  workbook: ExcelJS.Workbook,
  answers: ReadonlyArray<string | null>,
  survey: SurveyFile,
): void {
  const sheet = workbook.getWorksheet('Data');
  if (!sheet) throw new Error('no Data sheet');
  expect(sheet.actualRowCount).toBe(2 + answers.length);
  answers.forEach((answer, i) => {
    const row = survey.rows[i] ?? 0;
    expect(cellText(sheet, row, 'A')).toBe(`R${1000 + i}`);
    expect(cellText(sheet, row, 'G'), `row ${row}`).toBe(expected(answer));
  });
}
