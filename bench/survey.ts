import fs from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { Category } from '../domain/categories.js';
import { parseCategories } from '../domain/categories.js';
import type { CodingMode } from '../domain/prompt.js';
import { SINGLE_LABEL } from '../domain/prompt.js';
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
 * What the simulator's rule gives each answer, as the category cell shows it (several labels joined by
 * "; " in multi-code mode): the only correct coding.
 */
export function expectedLabels(
  answers: readonly string[],
  categories: readonly Category[],
  mode: CodingMode = SINGLE_LABEL,
): string[] {
  return answers.map((a) => simulatorLabels(a, categories, mode).join('; '));
}
