/**
 * Reads an SPSS system file back with Debian's pspp (scripts/ensure-pspp.ts installs it): the header's
 * facts, the variables, value labels and response sets from DISPLAY DICTIONARY and MRSETS, and the cases
 * through SAVE TRANSLATE to CSV. pspp must report no warning.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { expect } from 'vitest';
import { findPspp } from '../../scripts/pspp.js';

const run = promisify(execFile);

export interface SavReadBack {
  readonly info: Map<string, string>;
  readonly variables: Array<{
    name: string;
    label: string;
    measure: string;
    format: string;
    missing: string;
  }>;
  readonly valueLabels: Map<string, Array<[string, string]>>;
  readonly mrsets: Array<{
    name: string;
    label: string;
    encoding: string;
    counted: string;
    variables: string[];
  }>;
  readonly header: string[];
  /** The cases as pspp writes them to CSV: numbers in full, missing numbers blank (a space). */
  readonly rows: string[][];
  /** Every table of pspp's report by its title, rows as printed (the first is the columns' head). */
  readonly tables: ReadonlyMap<string, string[][]>;
}

let pspp: Promise<string> | undefined;

function requirePspp(): Promise<string> {
  pspp ??= findPspp().then((found) => {
    if (found !== undefined) return found;
    throw new Error(
      "pspp not found on the PATH: the SPSS tests read every .sav back with Debian's pspp; " +
        '`npm test` installs it (scripts/ensure-pspp.ts), or run `npx tsx scripts/ensure-pspp.ts` as root.',
    );
  });
  return pspp;
}

/** `commands`: more syntax run after the dictionary is shown (e.g. FREQUENCIES), its tables in `tables`. */
export async function readSav(file: string, commands: readonly string[] = []): Promise<SavReadBack> {
  const base = file.replace(/\.sav$/u, '');
  await fs.writeFile(
    `${base}.sps`,
    [
      'SET TVARS=NAMES.',
      `SYSFILE INFO FILE='${file}'.`,
      `GET FILE='${file}'.`,
      'DISPLAY DICTIONARY.',
      'MRSETS /DISPLAY NAME=ALL.',
      ...commands,
      `SAVE TRANSLATE /OUTFILE='${base}.data.csv' /TYPE=CSV /FIELDNAMES /TEXTOPTIONS FORMAT=PLAIN /REPLACE.`,
      '',
    ].join('\n'),
  );
  const { stdout, stderr } = await run(await requirePspp(), [`${base}.sps`, '-o', `${base}.out.csv`], {
    maxBuffer: 256 * 1024 * 1024,
  });
  const report = await fs.readFile(`${base}.out.csv`, 'utf8');
  expect(`${stdout}\n${stderr}\n${report}`).not.toMatch(/warning|error/iu);
  const tables = new Map<string, string[][]>();
  let table: string[][] | undefined;
  const lines: string[][] = parse(report, { relax_column_count: true, skip_empty_lines: true });
  for (const row of lines) {
    const title = row.length === 1 ? /^Table: (.*)$/u.exec(row[0] ?? '')?.[1] : undefined;
    if (title !== undefined) tables.set(title, (table = []));
    else table?.push(row);
  }
  const records = (title: string): Array<Map<string, string>> => {
    const [columns = [], ...rows] = tables.get(title) ?? [];
    return rows.map((row) => new Map(columns.map((column, i) => [column, row[i] ?? ''])));
  };
  const info = new Map((tables.get('File Information') ?? []).map(([k = '', v = '']) => [k, v]));
  const variables = records('Variables').map((v) => ({
    name: v.get('Name') ?? '',
    label: v.get('Label') ?? '',
    measure: v.get('Measurement Level') ?? '',
    format: v.get('Print Format') ?? '',
    missing: v.get('Missing Values') ?? '',
  }));
  const valueLabels = new Map<string, Array<[string, string]>>();
  let labelled: Array<[string, string]> = [];
  for (const [name = '', value = '', label = ''] of (tables.get('Value Labels') ?? [[]]).slice(1)) {
    if (name !== '') valueLabels.set(name, (labelled = []));
    labelled.push([value, label]);
  }
  const mrsets = records('Multiple Response Sets').map((set) => ({
    name: set.get('Name') ?? '',
    label: set.get('Label') ?? '',
    encoding: set.get('Encoding') ?? '',
    counted: set.get('Counted Value') ?? '',
    variables: (set.get('Member Variables') ?? '').split('\n'),
  }));
  const data: string[][] = parse(await fs.readFile(`${base}.data.csv`, 'utf8'), { relax_column_count: true });
  const [header = [], ...rows] = data;
  await Promise.all(
    [`${base}.sps`, `${base}.out.csv`, `${base}.data.csv`].map((f) => fs.rm(f, { force: true })),
  );
  return { info, variables, valueLabels, mrsets, header, rows, tables };
}
