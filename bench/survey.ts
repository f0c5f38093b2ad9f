import fs from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { Category } from '../domain/categories.js';
import { parseCategories } from '../domain/categories.js';
import type { CodingMode } from '../domain/prompt.js';
import { SINGLE_LABEL } from '../domain/prompt.js';
import { fallbackLabel } from '../domain/categories.js';
import { isBlank, isInvalidAnswer } from '../domain/text.js';
import { expectedLabels as simulatorLabels } from '../simulator/labels.js';

/** The example survey's categories: the simulator codes by their keywords, so every label is predictable. */
export async function loadCategories(root: string): Promise<Category[]> {
  return parseCategories(await fs.readFile(path.join(root, 'examples/categories.txt'), 'utf8'));
}

const OPENINGS = [
  'the price was too high for what you get',
  'delivery arrived two days late and the courier was rude',
  'product quality is great, it works well',
  'the checkout on the website keeps failing',
  'customer service sorted out my refund quickly',
  'a good range and plenty of choice',
  'way too expensive compared to other shops',
  'my parcel was damaged when it arrived',
  'the app crashes every time I log in',
  'staff were helpful and friendly',
  'nothing special, it was fine',
  'I have always shopped here',
];
const CLOSINGS = ['', ' overall', ', would recommend', ', not sure I will come back', ' to be honest'];

/** `count` distinct answers (the respondent number makes each one unique), as survey exports hold them. */
export function makeAnswers(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const opening = OPENINGS[i % OPENINGS.length] ?? '';
    const closing = CLOSINGS[Math.floor(i / OPENINGS.length) % CLOSINGS.length] ?? '';
    return `${opening}${closing} (respondent ${i + 1})`;
  });
}

/** A one-sheet survey: ID in column A, the answers under the header `E2` in column B, from row 2. */
export async function writeSurvey(file: string, answers: readonly string[]): Promise<void> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Data');
  sheet.addRow(['ID', 'E2']);
  answers.forEach((answer, i) => sheet.addRow([`R${100_000 + i}`, answer]));
  await workbook.xlsx.writeFile(file);
}

/**
 * Answers people give in a word or a few, and give again: how often each comes back in the repeats
 * workbook (a weight), spelled as they type it (case and spacing vary, the answer does not).
 */
const COMMON: ReadonlyArray<readonly [string, number]> = [
  ['Price', 69],
  ['Too expensive', 48],
  ['Delivery', 40],
  ['Good service', 36],
  ['Nothing', 34],
  ['Quality', 32],
  ['Fast delivery', 30],
  ['Cheap', 28],
  ['Late delivery', 26],
  ['Helpful staff', 24],
  ['Good quality', 23],
  ['Value for money', 22],
  ['The website', 21],
  ['Choice', 20],
  ['All good', 20],
  ['Rude staff', 19],
  ['Good range', 18],
  ['The app', 18],
  ['Customer service', 17],
  ['Prices', 17],
  ['Good', 16],
  ['Damaged parcel', 16],
  ['Easy checkout', 15],
  ['Nothing to add', 15],
  ['Refund', 14],
  ['Convenient', 14],
  ['Variety', 13],
  ['Arrived late', 13],
  ['Expensive', 13],
  ['Broken', 12],
  ['Friendly staff', 12],
  ['Out of stock', 12],
  ['Not sure', 11],
  ['Discounts', 11],
  ['Fine', 10],
  ['Login problems', 10],
  ['Shipping', 10],
  ['Good value', 10],
  ['Support', 9],
  ['Habit', 9],
];

/** What a survey export holds where nobody answered: empty cells and the placeholders tools write. */
const NO_ANSWER = ['', '', '', 'n/a', 'N/A', '-', '#N/A', '.'];

/** A spelling of a common answer as a respondent might type it: the same answer to the normalized eye. */
function spelled(answer: string, n: number): string {
  switch (n % 5) {
    case 1:
      return answer.toLowerCase();
    case 2:
      return `${answer} `;
    case 3:
      return answer.toUpperCase();
    default:
      return answer;
  }
}

/** The repeats workbook's sizes: those of the original table, and a third of its answers said before. */
export const REPEATS = { rows: 2_482, toCode: 2_300, unique: 1_533 } as const;

/**
 * A workbook like the original table's: 2,482 rows, 182 of them empty or a placeholder, 2,300 answers to
 * code, of which 1,533 are distinct: 1,493 sentences said once and 40 short answers said 807 times between
 * them ("Price", "too expensive", "Nothing"…, their case and spacing varying). A third of the answers repeat
 * an earlier one, as in the table the cost issue measured (its de-duplication alone brought the bill to
 * 61–64 % of the original layout's, the same layout at the same batch size). Rows in a fixed shuffled order.
 */
export function makeRepeatsAnswers(): string[] {
  const common = COMMON.reduce((sum, [, weight]) => sum + weight, 0);
  const distinct = REPEATS.toCode - common;
  if (distinct + COMMON.length !== REPEATS.unique) throw new Error('repeats workbook: sizes disagree');
  const cells = [
    ...makeAnswers(distinct),
    ...COMMON.flatMap(([answer, weight]) => Array.from({ length: weight }, (_, n) => spelled(answer, n))),
    ...Array.from({ length: REPEATS.rows - REPEATS.toCode }, (_, i) => NO_ANSWER[i % NO_ANSWER.length] ?? ''),
  ];
  // Fisher–Yates with a fixed LCG: the same workbook every run, repeats spread over the batches.
  let seed = 20_482;
  for (let i = cells.length - 1; i > 0; i -= 1) {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    const j = seed % (i + 1);
    [cells[i], cells[j]] = [cells[j] ?? '', cells[i] ?? ''];
  }
  return cells;
}

/** Whether verbatim codes this cell (not empty, not a placeholder): the answers a coder is paid for. */
export function isToCode(answer: string): boolean {
  return !isBlank(answer) && !isInvalidAnswer(answer);
}

/**
 * What each row's category cell should read: the simulator's rule for an answer (several labels joined by
 * "; " in multi-code mode), the only correct coding; nothing for an empty cell and the fallback for a
 * placeholder, as verbatim writes them.
 */
export function expectedLabels(
  answers: readonly string[],
  categories: readonly Category[],
  mode: CodingMode = SINGLE_LABEL,
): string[] {
  return answers.map((a) => {
    if (isBlank(a)) return '';
    if (isInvalidAnswer(a)) return fallbackLabel(categories);
    return simulatorLabels(a, categories, mode).join('; ');
  });
}
