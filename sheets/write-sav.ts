/**
 * The coded data as an SPSS system file (sav.ts writes it): one case per data row, in order.
 *
 * Variables, in the sheet's column order:
 *  - each column of the answer sheet that has a header or any value in the data rows: named after its
 *    header (the letter when it has none), made valid and unique; the header as its label. A column whose
 *    values are all numbers (CSV fields read as csv-values.ts reads them) is numeric, with as many decimals
 *    as its longest one needs; any other is a string as wide as its longest value in UTF-8 bytes. Dates are
 *    kept as their text (`2024-03-05`).
 *  - at the category column, single-label: the code of each row's label (`domain/codeframe.ts`: codes given
 *    or 1…n, the fallback 97), numeric, with a value label per code; a label the codeframe does not have (a
 *    row coded before the job) is missing, and counted. Rows the job did not code are user-missing, as the
 *    Summary leaves them out of its counts: -1 "Invalid answer" (`-`, `n/a`: the workbook's cell says
 *    `Other`), -2 "Retries ran out" (likewise); declared missing, SPSS shows them apart from the codes and
 *    out of the valid percentages. Codes are 1 or more, so these never meet one. Empty rows stay
 *    system-missing. Multi-code: the category cell's text, as a string.
 *  - multi-code, at the 0/1 columns: one 0/1 variable per category and per net, labelled with the category
 *    (`NET Service`), values labelled 0 "Not mentioned" and 1 "Mentioned", missing where the workbook's
 *    cell is blank; then one multiple dichotomy set counting 1 over the categories (`$E2`, labelled with the
 *    question) and one per net over its categories (`$E2_NET_Service`), for nets of two or more.
 *  - at the confidence column (`E2 confidence`, when the model gave log-probabilities): numeric, two
 *    decimals as the workbook shows it, labelled with its header; system-missing where the cell is blank.
 */
import { columnIndex, columnLetter } from '../domain/columns.js';
import type { Codeframe } from '../domain/codeframe.js';
import type { NotCoded } from '../domain/coded-rows.js';
import { LabelIndex } from '../domain/codeframe.js';
import { categoryKey } from '../domain/categories.js';
import { cellKind, cellText } from './cells.js';
import { openCsv } from './csv.js';
import { csvCellValue, sniffDecimalComma } from './csv-values.js';
import type { SavMultipleResponseSet, SavValue, SavVariable } from './sav.js';
import { makeVariableNames, writeSav } from './sav.js';
import { openSheet } from './sources.js';
import type { CodedSheet } from './write-csv.js';
import { codeColumnIndex, confidenceColumnIndex, dichotomyValues, roundedConfidence } from './write-csv.js';
import type { CellValue } from 'exceljs';

export interface WriteCodedSavInput extends CodedSheet {
  readonly outPath: string;
  /** The data rows, ascending: each becomes a case, in this order. */
  readonly rows: readonly number[];
  readonly codeframe: Codeframe;
  readonly multi: boolean;
  /** The survey question: the label of the response set. */
  readonly question: string;
  /** The answer column's header, e.g. `E2`: names the response sets. */
  readonly header: string;
  /** Rows the job did not code, and why: user-missing in the single-label coded variable. */
  readonly notCoded?: ReadonlyMap<number, NotCoded>;
}

/** The user-missing codes of the single-label coded variable: below every codeframe code (1 or more). */
export const NOT_CODED_VALUES: Readonly<Record<NotCoded, readonly [number, string]>> = {
  invalid: [-1, 'Invalid answer'],
  fallback: [-2, 'Retries ran out'],
};

export interface WrittenSav {
  readonly path: string;
  readonly cases: number;
  readonly variables: readonly string[];
  readonly sets: readonly string[];
  /** Rows coded before the job with a label the codeframe lacks: missing in the coded variable. */
  readonly unknownLabels: number;
  /** String values cut to SPSS's 32,767 bytes. */
  readonly truncatedValues: number;
}

const DICHOTOMY_LABELS: Array<[number, string]> = [
  [0, 'Not mentioned'],
  [1, 'Mentioned'],
];
const MAX_DECIMALS = 16;

/** What the first pass learns of a sheet column. */
interface ColumnFacts {
  header: string;
  numeric: boolean;
  any: boolean;
  decimals: number;
  /** Longest text, UTF-8 bytes. */
  bytes: number;
}

type Slot =
  | { kind: 'column'; column: number }
  | { kind: 'coded' }
  | { kind: 'category-text' }
  | { kind: 'dichotomy'; position: number }
  | { kind: 'confidence' };

export async function writeCodedSav(input: WriteCodedSavInput): Promise<WrittenSav> {
  const categoryColumn = columnIndex(input.categoryColumn) ?? 0;
  const codeColumn = codeColumnIndex(input.codes);
  const codes = input.codes;
  const codeCount = codes?.headers.length ?? 0;
  const confidence = input.confidence;
  const confidenceColumn = confidenceColumnIndex(confidence);
  const ours = (column: number) =>
    column === categoryColumn ||
    column === confidenceColumn ||
    (codeColumn !== undefined && column >= codeColumn && column < codeColumn + codeCount);
  const decimalComma =
    input.format === 'csv'
      ? await sniffDecimalComma(await openCsv(input.inputPath, input.displayName))
      : false;
  const typed = (value: CellValue): { number?: number; text: string } => {
    if (typeof value === 'string' && input.format === 'csv') {
      const csv = csvCellValue(value, decimalComma);
      return typeof csv.value === 'number' ? { number: csv.value, text: value } : { text: value };
    }
    const text = cellText(value);
    if (text !== '' && cellKind(value) === 'number' && !(value instanceof Date)) {
      const number = Number(text);
      if (Number.isFinite(number)) return { number, text };
    }
    return { text };
  };
  const index = new LabelIndex(input.codeframe);

  // First pass: headers, types, widths.
  const facts = new Map<number, ColumnFacts>();
  const fact = (column: number) => {
    let f = facts.get(column);
    if (!f) facts.set(column, (f = { header: '', numeric: true, any: false, decimals: 0, bytes: 1 }));
    return f;
  };
  let categoryBytes = 1;
  let unknownLabels = 0;
  for await (const { number, values, isCase } of sheetRows(input)) {
    if (number === input.headerRow) {
      values.forEach((v, i) => {
        const text = cellText(v).trim();
        if (text !== '' && !ours(i + 1)) fact(i + 1).header = text;
      });
    }
    if (!isCase) continue;
    values.forEach((v, i) => {
      if (ours(i + 1)) return;
      const { number, text } = typed(v);
      if (text === '') return;
      const f = fact(i + 1);
      f.any = true;
      f.bytes = Math.max(f.bytes, Buffer.byteLength(text, 'utf8'));
      if (number === undefined) f.numeric = false;
      else f.decimals = Math.min(MAX_DECIMALS, Math.max(f.decimals, decimalsOf(number)));
    });
    const category = input.labels.get(number) ?? cellText(values[categoryColumn - 1]).trim();
    categoryBytes = Math.max(categoryBytes, Buffer.byteLength(category, 'utf8'));
    if (!input.multi && category !== '' && index.position(category) === undefined) unknownLabels += 1;
  }

  // The variables in column order: the sheet's, the coded one, the 0/1 ones.
  const last = Math.max(
    categoryColumn,
    codeColumn === undefined ? 0 : codeColumn + codeCount - 1,
    confidenceColumn ?? 0,
    ...facts.keys(),
  );
  const slots: Slot[] = [];
  const variables: SavVariable[] = [];
  for (let column = 1; column <= last; column += 1) {
    if (column === categoryColumn) {
      slots.push(input.multi ? { kind: 'category-text' } : { kind: 'coded' });
      variables.push(
        input.multi
          ? { name: input.categoryHeader, label: input.categoryHeader, type: 'string', width: categoryBytes }
          : {
              name: input.categoryHeader,
              label: input.categoryHeader,
              type: 'numeric',
              decimals: 0,
              valueLabels: [
                ...input.codeframe.categories.map((c): [number, string] => [c.code, c.name]),
                ...Object.values(NOT_CODED_VALUES),
              ],
              missingValues: Object.values(NOT_CODED_VALUES).map(([value]) => value),
            },
      );
    } else if (confidence && column === confidenceColumn) {
      slots.push({ kind: 'confidence' });
      variables.push({ name: confidence.header, label: confidence.header, type: 'numeric', decimals: 2 });
    } else if (codes && codeColumn !== undefined && column >= codeColumn && column < codeColumn + codeCount) {
      const position = column - codeColumn;
      const category = input.codeframe.categories[position];
      const net = input.codeframe.nets[position - input.codeframe.categories.length];
      slots.push({ kind: 'dichotomy', position });
      variables.push({
        name: codes.headers[position] ?? `code ${position + 1}`,
        label: category ? category.name : `NET ${net?.name ?? ''}`,
        type: 'numeric',
        decimals: 0,
        valueLabels: DICHOTOMY_LABELS,
      });
    } else {
      const f = facts.get(column);
      if (!f || (!f.any && f.header === '')) continue;
      slots.push({ kind: 'column', column });
      const name = f.header || columnLetter(column);
      variables.push(
        f.numeric && f.any
          ? { name, ...(f.header ? { label: f.header } : {}), type: 'numeric', decimals: f.decimals }
          : { name, ...(f.header ? { label: f.header } : {}), type: 'string', width: f.bytes },
      );
    }
  }
  const names = makeVariableNames(variables.map((v) => v.name));
  const named = variables.map((v, i) => ({ ...v, name: names[i] ?? v.name }));

  const mrsets: SavMultipleResponseSet[] = [];
  if (input.multi && codes) {
    const nameOf = (position: number) =>
      names[slots.findIndex((s) => s.kind === 'dichotomy' && s.position === position)];
    const categories = input.codeframe.categories.map((_, p) => nameOf(p)).filter((n): n is string => !!n);
    if (categories.length >= 2) {
      mrsets.push({
        kind: 'dichotomy',
        name: input.header,
        label: input.question,
        countedValue: 1,
        variables: categories,
      });
    }
    for (const net of input.codeframe.nets) {
      const members = input.codeframe.categories
        .map((c, p) =>
          c.net !== undefined && categoryKey(c.net) === categoryKey(net.name) ? nameOf(p) : undefined,
        )
        .filter((n): n is string => !!n);
      // SPSS needs two variables to a set: a net of one category is that category.
      if (members.length < 2) continue;
      mrsets.push({
        kind: 'dichotomy',
        name: `${input.header}_NET_${net.name}`,
        label: `NET ${net.name}`,
        countedValue: 1,
        variables: members,
      });
    }
  }

  // Second pass: the cases. The rows are read again (a sheet is never held whole).
  const caseOf = (number: number, values: readonly CellValue[]): SavValue[] => {
    let dichotomies: Array<0 | 1> | undefined;
    return slots.map((slot, i): SavValue => {
      switch (slot.kind) {
        case 'column': {
          const { number: n, text } = typed(values[slot.column - 1]);
          if (named[i]?.type === 'numeric') return n ?? null;
          return text === '' ? null : text;
        }
        case 'coded': {
          const notCoded = input.notCoded?.get(number);
          if (notCoded) return NOT_CODED_VALUES[notCoded][0];
          const label = input.labels.get(number) ?? cellText(values[categoryColumn - 1]).trim();
          const position = label === '' ? undefined : index.position(label);
          return position === undefined ? null : (input.codeframe.categories[position]?.code ?? null);
        }
        case 'category-text': {
          const label = input.labels.get(number) ?? cellText(values[categoryColumn - 1]).trim();
          return label === '' ? null : label;
        }
        case 'dichotomy': {
          const ones = codes?.ones.get(number);
          if (!ones) return null;
          dichotomies ??= dichotomyValues(ones, codeCount);
          return dichotomies[slot.position] ?? null;
        }
        case 'confidence':
          // A row coded before the job keeps the confidence its cell holds.
          return (
            roundedConfidence(confidence?.values.get(number)) ??
            typed(values[(confidenceColumn ?? 0) - 1]).number ??
            null
          );
      }
    });
  };
  const written = await writeSav(
    input.outPath,
    {
      variables: named,
      mrsets,
      fileLabel: `${input.displayName}, coded by verbatim`,
    },
    async function* () {
      for await (const { number, values, isCase } of sheetRows(input)) {
        if (isCase) yield caseOf(number, values);
      }
    },
  );
  return {
    path: written.path,
    cases: written.cases,
    variables: written.names,
    sets: written.setNames,
    unknownLabels,
    truncatedValues: written.truncatedValues,
  };
}

/** Every row of the answer sheet, and whether it is a case (one of `rows`). */
async function* sheetRows(
  input: WriteCodedSavInput,
): AsyncGenerator<{ number: number; values: readonly CellValue[]; isCase: boolean }> {
  const sheet = await openSheet({
    path: input.inputPath,
    displayName: input.displayName,
    format: input.format,
    sheet: input.sheet,
  });
  let next = 0;
  for await (const raw of sheet.rows) {
    while (next < input.rows.length && (input.rows[next] ?? 0) < raw.number) next += 1;
    yield { number: raw.number, values: raw.values, isCase: input.rows[next] === raw.number };
  }
}

/** Decimal places a number needs as Excel keeps it (15 significant digits). */
function decimalsOf(n: number): number {
  if (Number.isInteger(n)) return 0;
  const text = String(Number(n.toPrecision(15)));
  const e = /e-(\d+)$/.exec(text);
  if (e) return Math.min(MAX_DECIMALS, Number(e[1]) + (text.split('e')[0]?.split('.')[1]?.length ?? 0));
  return text.split('.')[1]?.length ?? 0;
}
