import ExcelJS from 'exceljs';
import { expect } from 'vitest';
import type { Category } from '../../domain/categories.js';
import { parseCategories } from '../../domain/categories.js';
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

/** A survey with the answers in E (`E2`) and the human coding in G, headed `goldHeader`, beside them. */
export async function writeGoldSurvey(
  file: string,
  answers: ReadonlyArray<string | null>,
  gold: ReadonlyArray<string | null>,
  goldHeader: string,
): Promise<void> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Data');
  sheet.getRow(1).values = ['ID', 'Country', 'Score', 'Age', 'E2', 'Weight', goldHeader];
  answers.forEach((answer, i) => {
    sheet.getRow(2 + i).values = [`R${i}`, 'UK', i % 11, '25-34', answer, 1, gold[i] ?? null];
  });
  await workbook.xlsx.writeFile(file);
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
  // exceljs hands back a hyperlinked number's `text` as the number itself.
  return String(sheet.getCell(`${column}${row}`).text);
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

/**
 * A codeframe with codes and nets, as an analyst writes it: three categories outside any net, two nets of
 * two, the fallback numbered 97. The simulator matches the keywords of the descriptions.
 */
export const NETTED_CODEFRAME = [
  '# E2 codeframe, with nets',
  '1 Price: price, expensive, cheap, cost',
  '2 Delivery: delivery, late, courier, parcel',
  '3 App: app, website, login, checkout',
  '[10 Product]',
  '11 Quality: quality, broken, fresh, stale',
  '12 Range: range, choice, variety',
  '[20 Service]',
  '21 Staff: staff, rude, helpful',
  '22 Support: support, refund, helpline',
  '97 Other',
].join('\n');

export const NETTED_CATEGORIES: Category[] = parseCategories(NETTED_CODEFRAME, 'netted.txt');

/** Phrases by the category their words belong to; the last group mentions none. */
const TOPICS: readonly (readonly string[])[] = [
  ['the price was too high', 'way too expensive', 'cheap and cheerful'],
  ['delivery came late', 'the courier lost my parcel'],
  ['the app keeps crashing', 'login never works on the website'],
  ['quality is great', 'it arrived broken', 'bread was stale'],
  ['not much choice', 'a good range of brands'],
  ['staff were rude', 'the helpful staff'],
  ['support never answered', 'still waiting for my refund'],
  ['nothing to add really', 'I just like it', 'my neighbour told me about you'],
];

/**
 * Deterministic answers that mention zero to four topics each (a share with none, so coded "Other"), in
 * varied order, each distinct (`#n`), with a share of exact duplicates in another case and spacing.
 */
export function makeMultiAnswers(count: number, options: { duplicates?: number } = {}): string[] {
  let seed = 11;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const earlier = out[Math.floor(random() * out.length)];
    if (earlier !== undefined && random() < (options.duplicates ?? 0)) {
      out.push(`  ${earlier.toUpperCase()} `);
      continue;
    }
    const topics = [...TOPICS.keys()].sort(() => random() - 0.5).slice(0, Math.floor(random() * 5));
    const phrases = topics.map((t) => {
      const group = TOPICS[t] ?? [];
      return group[Math.floor(random() * group.length)] ?? '';
    });
    if (phrases.length === 0) phrases.push(TOPICS[7]?.[i % 3] ?? 'ok');
    out.push(`${phrases.join(' and ')} #${i + 1}`);
  }
  return out;
}

/**
 * The categories an answer should be coded with in multi-code mode, worked out here and not by the
 * simulator's code: the answer's words (lower case, split at anything but a-z and 0-9) are searched for
 * each keyword's words in a row; the categories found, in codeframe order, at most `maxCodes`; the
 * fallback when none.
 */
export function expectedSet(answer: string, categories: readonly Category[], maxCodes: number): string[] {
  const words = (text: string) =>
    text
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean);
  const said = words(answer);
  const mentions = (phrase: string) => {
    const wanted = words(phrase);
    return wanted.length > 0 && said.some((_, start) => wanted.every((word, k) => said[start + k] === word));
  };
  const found = categories.filter((c) => {
    if (c.name.toLowerCase() === 'other') return false;
    const keywords = [c.name, ...(c.description ?? '').split(/[,;]/)]
      .map((k) => k.trim())
      .filter((k) => k.length >= 3);
    return keywords.some(mentions);
  });
  return found.length > 0 ? found.slice(0, maxCodes).map((c) => c.name) : ['Other'];
}
