/**
 * The SPSS writer, checked by the oracle: every file is read back with Debian's pspp (installed before the
 * tests by scripts/ensure-pspp.ts), which must report no warning, and the case count, variables, labels,
 * response sets and every value must come back as written.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPspp } from '../../scripts/pspp.js';
import type { SavMultipleResponseSet, SavValue, SavVariable } from '../../sheets/sav.js';
import { SavSpecError, SavValueError, makeVariableNames, openSavWriter, writeSav } from '../../sheets/sav.js';

const run = promisify(execFile);

let dir = '';

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-sav-'));
});

/** Looked up when a test first reads a file, so the tests that need no pspp run without it. */
let pspp: Promise<string> | undefined;
function requirePspp(): Promise<string> {
  pspp ??= findPspp().then((found) => {
    if (found !== undefined) return found;
    throw new Error(
      "pspp not found on the PATH: the SPSS file tests read every written .sav back with Debian's pspp. " +
        '`npm test` installs it with apt-get as root (scripts/ensure-pspp.ts); or run ' +
        '`npx tsx scripts/ensure-pspp.ts` as root.',
    );
  });
  return pspp;
}

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

interface ReadBack {
  /** SYSFILE INFO: what the header and records say (Cases is the header's count). */
  info: Map<string, string>;
  variables: Array<{ name: string; label: string; measure: string; format: string }>;
  valueLabels: Map<string, Array<[string, string]>>;
  mrsets: Array<{ name: string; label: string; encoding: string; counted: string; variables: string[] }>;
  header: string[];
  rows: string[][];
}

/** Reads `file` with pspp: the dictionary from its CSV output tables, the cases through SAVE TRANSLATE. */
async function readBack(file: string, extraSyntax: string[] = []): Promise<ReadBack> {
  const base = path.join(dir, path.basename(file, '.sav'));
  await fs.writeFile(
    `${base}.sps`,
    [
      'SET TVARS=NAMES.',
      `SYSFILE INFO FILE='${file}'.`,
      `GET FILE='${file}'.`,
      'DISPLAY DICTIONARY.',
      'MRSETS /DISPLAY NAME=ALL.',
      // FORMAT=PLAIN prints numbers in full (shortest round-trip form), not in their display format.
      `SAVE TRANSLATE /OUTFILE='${base}.data.csv' /TYPE=CSV /FIELDNAMES /TEXTOPTIONS FORMAT=PLAIN /REPLACE.`,
      ...extraSyntax,
      '',
    ].join('\n'),
  );
  const { stdout, stderr } = await run(await requirePspp(), [`${base}.sps`, '-o', `${base}.out.csv`], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const report = await fs.readFile(`${base}.out.csv`, 'utf8');
  // pspp reports anything odd in a system file as a warning: the file must read cleanly.
  expect(`${stdout}\n${stderr}\n${report}`).not.toMatch(/warning|error/iu);

  const tables = new Map<string, string[][]>();
  let table: string[][] | undefined;
  for (const row of parse(report, { relax_column_count: true, skip_empty_lines: true })) {
    const title = row.length === 1 ? /^Table: (.*)$/u.exec(row[0] ?? '')?.[1] : undefined;
    // SYSFILE INFO shows the dictionary too; DISPLAY DICTIONARY's tables come later and win.
    if (title !== undefined) tables.set(title, (table = []));
    else table?.push(row);
  }
  const body = (title: string): string[][] => (tables.get(title) ?? [[]]).slice(1);
  /** A table's rows as objects by column title: pspp leaves out columns nobody fills (Label). */
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
  }));
  const valueLabels = new Map<string, Array<[string, string]>>();
  let labelled: Array<[string, string]> = [];
  for (const [name = '', value = '', label = ''] of body('Value Labels')) {
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
  const [header = [], ...rows] = parse(await fs.readFile(`${base}.data.csv`, 'utf8'), {
    relax_column_count: true,
  });
  return { info, variables, valueLabels, mrsets, header, rows };
}

/** What pspp's CSV holds for a value: the number in full, blank for missing; strings without trailing spaces. */
function asCsv(value: SavValue, type: 'numeric' | 'string'): string {
  if (type === 'string') return typeof value === 'string' ? value.replace(/ +$/u, '') : '';
  return typeof value === 'number' ? String(value) : ' ';
}

/** Numbers compared as numbers: pspp and JavaScript may spell the same double differently. */
function fromCsv(row: readonly string[], variables: readonly SavVariable[]): string[] {
  return row.map((cell, i) =>
    variables[i]?.type === 'numeric' && cell.trim() !== '' ? String(Number(cell)) : cell,
  );
}

function expectCase(
  row: readonly string[] | undefined,
  variables: readonly SavVariable[],
  values: readonly SavValue[],
  what: string,
): void {
  expect(fromCsv(row ?? [], variables), what).toEqual(
    values.map((value, i) => asCsv(value, variables[i]?.type ?? 'numeric')),
  );
}

function expectData(back: ReadBack, variables: readonly SavVariable[], cases: readonly SavValue[][]): void {
  expect(back.rows).toHaveLength(cases.length);
  cases.forEach((values, r) => expectCase(back.rows[r], variables, values, `case ${r + 1}`));
}

const DICHOTOMY_LABELS: Array<[number, string]> = [
  [0, 'Not mentioned'],
  [1, 'Mentioned'],
];
const CODES: Array<[number, string]> = [
  [1, 'Price'],
  [2, 'Staff politeness'],
  [3, 'Waiting time'],
  [97, 'Other'],
];

describe('makeVariableNames', () => {
  it('makes arbitrary header texts valid, unique SPSS names', () => {
    const japanese = '満足度の理由を教えてください'.repeat(8); // 112 characters, 336 bytes
    const names = makeVariableNames([
      'Respondent ID',
      'respondent id',
      'RESPONDENT_ID',
      'AND',
      'with',
      '1st mention',
      'How satisfied were you with the checkout, the staff and the prices on your most recent visit to us?',
      japanese,
      '',
      '   ',
      'Price.',
      '_under_',
      'Q1',
      'Ｑ１',
      'Cost ($)',
      'E2 - What did you like?',
      '#id',
      '@home',
      'line\nbreak',
    ]);
    expect(names).toEqual([
      'Respondent_ID',
      'respondent_id_2',
      'RESPONDENT_ID_3',
      'v_AND',
      'v_with',
      'v1st_mention',
      'How_satisfied_were_you_with_the_checkout_the_staff_and_the_price',
      japanese.slice(0, 21),
      'v9',
      'v10',
      'Price',
      'under',
      'Q1',
      'Ｑ１_2',
      'Cost',
      'E2_What_did_you_like',
      'id',
      'home',
      'line_break',
    ]);
    for (const name of names) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(64);
    // Names it made come back unchanged, so a caller can name a set's variables before writing.
    expect(makeVariableNames(names)).toEqual(names);
  });

  it('keeps a numbered duplicate within 64 bytes', () => {
    const long = 'a'.repeat(80);
    expect(makeVariableNames([long, long, long])).toEqual([
      'a'.repeat(64),
      `${'a'.repeat(62)}_2`,
      `${'a'.repeat(62)}_3`,
    ]);
  });
});

describe('SPSS system file, read back by pspp', () => {
  const headers = [
    'Respondent ID',
    'respondent id',
    'AND',
    'with',
    '1st mention',
    'How satisfied were you with the checkout, the staff and the prices on your most recent visit to us?',
    '満足度の理由を教えてください',
    '',
    'Price.',
    'Ｑ１',
    'Q1',
    'NET Service',
    'Mention 1',
    'Mention 2',
    'Full answer',
  ];
  const names = makeVariableNames(headers);
  const [, , , , , , , coded = '', price = '', staff = '', wait = '', net = '', m1 = '', m2 = ''] = names;
  const variables: SavVariable[] = [
    { name: headers[0] ?? '', label: headers[0], type: 'numeric', decimals: 0 },
    {
      name: headers[1] ?? '',
      label: 'Respondent id\n(text)',
      type: 'string',
      valueLabels: [['r-2', 'Second respondent']],
    },
    { name: headers[2] ?? '', label: 'A number', type: 'numeric' },
    { name: headers[3] ?? '', label: 'Exactly 255 bytes', type: 'string', width: 255 },
    {
      name: headers[4] ?? '',
      label: '256 bytes',
      type: 'string',
      width: 256,
      valueLabels: [['a long value', 'A labelled long string']],
    },
    { name: headers[5] ?? '', label: headers[5], type: 'string', width: 5000 },
    { name: headers[6] ?? '', label: headers[6], type: 'string' },
    {
      name: headers[7] ?? '',
      label: 'E2 What did you like?',
      type: 'numeric',
      decimals: 0,
      valueLabels: CODES,
    },
    { name: price, label: 'Price', type: 'numeric', decimals: 0, valueLabels: DICHOTOMY_LABELS },
    { name: staff, label: 'Staff politeness', type: 'numeric', decimals: 0, valueLabels: DICHOTOMY_LABELS },
    { name: wait, label: 'Waiting time', type: 'numeric', decimals: 0, valueLabels: DICHOTOMY_LABELS },
    { name: net, label: 'NET Service', type: 'numeric', decimals: 0, valueLabels: DICHOTOMY_LABELS },
    { name: m1, label: 'First mention', type: 'numeric', decimals: 0, valueLabels: CODES },
    { name: m2, label: 'Second mention', type: 'numeric', decimals: 0, valueLabels: CODES },
    { name: headers[14] ?? '', label: 'The longest answer SPSS holds', type: 'string', width: 32_767 },
  ];
  const mrsets: SavMultipleResponseSet[] = [
    {
      kind: 'dichotomy',
      name: 'E2',
      label: 'What did you like about your visit?',
      countedValue: 1,
      variables: [price, staff, wait],
    },
    {
      kind: 'dichotomy',
      name: '$NET Service',
      label: 'NET Service',
      countedValue: 1,
      variables: [staff, wait],
    },
    {
      kind: 'dichotomy',
      name: 'E2 counted',
      label: 'What did you like? (labels of the counted value)',
      countedValue: 1,
      variables: [price, staff, wait],
      categoryLabels: 'counted-values',
    },
    { kind: 'category', name: 'mentions', label: 'Mentions', variables: [m1, m2] },
  ];
  const bytes255 = `${'a'.repeat(254)}z`;
  const bytes256 = `${'b'.repeat(255)}y`;
  const text5000 = Array.from({ length: 5000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
  const japanese = '日本語の回答です。とても満足しています 😀';
  // 32,767 bytes of mixed 1-, 2-, 3- and 4-byte characters, ending on a character boundary.
  const full = `${'aé日😀'.repeat(3276)}${'x'.repeat(7)}`;
  const cases: SavValue[][] = [
    [1, 'r-1', 0.1 + 0.2, bytes255, bytes256, text5000, japanese, 1, 1, 0, 0, 0, 1, null, full],
    [2, 'r-2', -1e300, 'short', 'a long value', 'x', 'é', 2, 0, 1, 1, 1, 2, 3, 'short'],
    [
      3,
      'r-3',
      1e-20,
      ' leading space',
      'c'.repeat(256),
      // é across the first segment boundary (bytes 254–255).
      `${'d'.repeat(254)}é${'d'.repeat(4744)}`,
      'line one\nline two',
      97,
      0,
      0,
      0,
      0,
      97,
      null,
      '',
    ],
    [4, null, null, null, null, null, null, null, null, null, null, null, null, null, null],
    [5, 'r-5', 123456.789, 'comma, "quote"', 'trailing spaces   ', 'e', 'ü', 3, 0, 0, 1, 1, 3, 1, 'Q1'],
  ];

  let file = '';
  let back: ReadBack;
  let written: Awaited<ReturnType<typeof writeSav>>;

  beforeAll(async () => {
    file = path.join(dir, 'survey.sav');
    written = await writeSav(file, { variables, mrsets, fileLabel: 'Customer survey, coded' }, () => cases);
    back = await readBack(file);
  });

  it('keeps the case count, encoding and file label in the header', () => {
    expect(written).toMatchObject({ path: file, cases: cases.length, truncatedValues: 0 });
    expect(back.info.get('Cases')).toBe(String(cases.length));
    expect(back.info.get('Variables')).toBe(String(variables.length));
    expect(back.info.get('Encoding')).toBe('UTF-8');
    expect(back.info.get('Compression')).toBe('SAV');
    expect(back.info.get('Label')).toBe('Customer survey, coded');
    expect(back.info.get('Created')).toMatch(/by verbatim$/u);
  });

  it('names the variables as makeVariableNames does, with their labels, types, widths and levels', () => {
    expect(written.names).toEqual(names);
    expect(back.variables.map((v) => v.name)).toEqual(names);
    expect(back.header).toEqual(names);
    expect(back.variables.map((v) => v.label)).toEqual([
      'Respondent ID',
      'Respondent id (text)',
      'A number',
      'Exactly 255 bytes',
      '256 bytes',
      headers[5],
      headers[6],
      'E2 What did you like?',
      'Price',
      'Staff politeness',
      'Waiting time',
      'NET Service',
      'First mention',
      'Second mention',
      'The longest answer SPSS holds',
    ]);
    // Strings as wide as their longest value when no width is given (r-1: 3 bytes; the Japanese answer).
    expect(back.variables.map((v) => v.format)).toEqual([
      'F8.0',
      'A3',
      'F8.2',
      'A255',
      'A256',
      'A5000',
      `A${Buffer.byteLength(japanese)}`,
      ...Array<string>(7).fill('F8.0'),
      'A32767',
    ]);
    expect(back.variables.map((v) => v.measure)).toEqual([
      'Scale',
      'Nominal',
      'Scale',
      'Nominal',
      'Nominal',
      'Nominal',
      'Nominal',
      ...Array<string>(7).fill('Nominal'),
      'Nominal',
    ]);
  });

  it('keeps the value labels of numbers, short strings and long strings', () => {
    const codes = CODES.map(([v, l]): [string, string] => [String(v), l]);
    const dichotomy = DICHOTOMY_LABELS.map(([v, l]): [string, string] => [String(v), l]);
    expect(Object.fromEntries(back.valueLabels)).toEqual({
      [names[1] ?? '']: [['r-2', 'Second respondent']],
      [names[4] ?? '']: [['a long value', 'A labelled long string']],
      [coded]: codes,
      [price]: dichotomy,
      [staff]: dichotomy,
      [wait]: dichotomy,
      [net]: dichotomy,
      [m1]: codes,
      [m2]: codes,
    });
  });

  it('keeps the multiple response sets: dichotomies counting 1, labelled with the question, and a category set', () => {
    expect(written.setNames).toEqual(['$E2', '$NET_Service', '$E2_counted', '$mentions']);
    const sets = [...back.mrsets].sort((a, b) => a.name.localeCompare(b.name));
    expect(sets).toEqual([
      {
        name: '$E2',
        label: 'What did you like about your visit?',
        encoding: 'Dichotomies',
        counted: '1',
        variables: [price, staff, wait],
      },
      {
        name: '$E2_counted',
        label: 'What did you like? (labels of the counted value)',
        encoding: 'Dichotomies',
        counted: '1',
        variables: [price, staff, wait],
      },
      { name: '$mentions', label: 'Mentions', encoding: 'Categories', counted: '', variables: [m1, m2] },
      {
        name: '$NET_Service',
        label: 'NET Service',
        encoding: 'Dichotomies',
        counted: '1',
        variables: [staff, wait],
      },
    ]);
  });

  it('keeps every value: numbers exactly, missing as missing, strings of every width byte for byte', () => {
    expectData(back, variables, cases);
  });

  it('says which sets label categories by counted values: pspp saves them again as such', async () => {
    const resaved = path.join(dir, 'resaved.sav');
    await readBack(file, [`SAVE OUTFILE='${resaved}'.`]);
    const text = (await fs.readFile(resaved)).toString('latin1');
    // pspp's own writer: classic sets in record 7 (`D`, `C`), counted-value labels in record 19 (`E 1`).
    expect(text).toMatch(/\$E2=D1 1 35 What did you like about your visit\? \S+ \S+ \S+\n/u);
    expect(text).toMatch(/\$E2_counted=E 1 1 1 48 What did you like\? \(labels of the counted value\) /u);
    expect(text).toMatch(/\$mentions=C 8 Mentions \S+ \S+\n/u);
  });

  it('writes the same data uncompressed', async () => {
    const plain = path.join(dir, 'plain.sav');
    await writeSav(plain, { variables, mrsets, compression: 'none' }, () => cases);
    const again = await readBack(plain);
    expect(again.info.get('Compression')).toBe('None');
    expect(again.info.get('Cases')).toBe(String(cases.length));
    expect(again.mrsets).toEqual(back.mrsets);
    expectData(again, variables, cases);
  });
});

describe('SPSS writer: edges', () => {
  it('cuts a value longer than its width at a character boundary, and counts it', async () => {
    const file = path.join(dir, 'cut.sav');
    const variables: SavVariable[] = [
      { name: 'two', type: 'string', width: 10 },
      { name: 'three', type: 'string', width: 10 },
      { name: 'long', type: 'string', width: 300 },
    ];
    const summary = await writeSav(file, { variables }, () => [
      ['éééééé', 'あいうえ', `${'x'.repeat(299)}é`],
      ['fits', 'fits', 'fits'],
    ]);
    expect(summary.truncatedValues).toBe(3);
    const back = await readBack(file);
    expect(back.rows).toEqual([
      ['ééééé', 'あいう', 'x'.repeat(299)],
      ['fits', 'fits', 'fits'],
    ]);
  });

  it('takes cases one by one through openSavWriter, rejecting a case that does not fit without writing it', async () => {
    const file = path.join(dir, 'direct.sav');
    const writer = await openSavWriter(file, {
      variables: [
        { name: 'id', type: 'numeric', decimals: 0 },
        { name: 'answer', type: 'string', width: 20 },
      ],
    });
    expect(writer.names).toEqual(['id', 'answer']);
    await writer.writeCase([1, 'first']);
    await expect(writer.writeCase([2, 3])).rejects.toThrow(
      new SavValueError(2, 'answer', '3 is not a string.'),
    );
    await expect(writer.writeCase(['2', 'x'])).rejects.toThrow('Case 2, variable id: "2" is not a number.');
    await expect(writer.writeCase([2])).rejects.toThrow('Case 2: 1 values for 2 variables.');
    await writer.writeCase([Number.NaN, null]);
    expect(await writer.close()).toEqual({ path: file, cases: 2, truncatedValues: 0 });
    await expect(writer.writeCase([3, 'late'])).rejects.toThrow('already closed');
    const back = await readBack(file);
    expect(back.info.get('Cases')).toBe('2');
    expect(back.rows).toEqual([
      ['1', 'first'],
      [' ', ''],
    ]);
  });

  it('refuses what it cannot write, saying what to change', async () => {
    const file = path.join(dir, 'refused.sav');
    await expect(openSavWriter(file, { variables: [{ name: 'text', type: 'string' }] })).rejects.toThrow(
      new SavSpecError(
        'String variable text has no width: give one, or let writeSav measure the longest value.',
      ),
    );
    await expect(
      openSavWriter(file, {
        variables: [
          { name: 'Q1 a', type: 'numeric' },
          { name: 'Q1 b', type: 'numeric' },
        ],
        mrsets: [{ kind: 'category', name: 'q1', label: 'Q1', variables: ['Q1 a', 'Q1 b'] }],
      }),
    ).rejects.toThrow(
      'Response set $q1: no variable is named "Q1 a". Use the final names (makeVariableNames): Q1_a, Q1_b.',
    );
    await expect(
      openSavWriter(file, {
        variables: [
          { name: 'a', type: 'numeric' },
          { name: 'b', type: 'string', width: 1 },
        ],
        mrsets: [{ kind: 'dichotomy', name: 'ab', label: '', countedValue: 1, variables: ['a', 'b'] }],
      }),
    ).rejects.toThrow('Response set $ab mixes numeric and string variables.');
    await expect(
      openSavWriter(file, { variables: [{ name: 'a', type: 'numeric', valueLabels: [['1', 'one']] }] }),
    ).rejects.toThrow('Variable a: value label "1" is not a finite number, as the variable is numeric.');
    await expect(fs.readdir(dir)).resolves.not.toContain('refused.sav');
  });

  it('leaves no file behind when the cases fail half-way', async () => {
    const file = path.join(dir, 'failed.sav');
    const before = await fs.readdir(dir);
    await expect(
      writeSav(file, { variables: [{ name: 'x', type: 'numeric' }] }, function* () {
        yield [1];
        throw new Error('source broke');
      }),
    ).rejects.toThrow('source broke');
    expect(await fs.readdir(dir)).toEqual(before);
  });
});

describe('SPSS writer: 200,000 cases', () => {
  it('streams them to disk as it goes, in bounded memory', async () => {
    const file = path.join(dir, 'large.sav');
    const count = 200_000;
    const codes = Array.from({ length: 20 }, (_, i) => `Code ${i + 1}`);
    const variables: SavVariable[] = [
      { name: 'id', type: 'numeric', decimals: 0 },
      { name: 'answer', type: 'string', width: 300 },
      { name: 'score', type: 'numeric' },
      ...codes.map((label): SavVariable => ({ name: label, label, type: 'numeric', decimals: 0 })),
    ];
    const names = makeVariableNames(variables.map((v) => v.name));
    const filler = 'The staff were friendly but the queue was long, and the prices went up again this year. ';
    const caseOf = (i: number): SavValue[] => [
      i,
      `${i} ${filler.repeat(3)}`,
      i % 10 === 0 ? null : i / 8,
      ...codes.map((_, j) => ((i + j) % 7 === 0 ? 1 : 0)),
    ];
    const writer = await openSavWriter(file, {
      variables,
      // Set members are found ignoring case: names are unique that way.
      mrsets: [
        {
          kind: 'dichotomy',
          name: 'codes',
          label: 'Codes',
          countedValue: 1,
          variables: names.slice(3).map((n) => n.toLowerCase()),
        },
      ],
    });
    const start = process.memoryUsage().rss;
    let peak = start;
    const onDisk = async (): Promise<number> => {
      const temporary = (await fs.readdir(dir)).find((f) => f.startsWith('large.sav.') && f.endsWith('.tmp'));
      return temporary === undefined ? 0 : (await fs.stat(path.join(dir, temporary))).size;
    };
    let lastOnDisk = 0;
    for (let i = 1; i <= count; i++) {
      await writer.writeCase(caseOf(i));
      if (i % 50_000 === 0) {
        peak = Math.max(peak, process.memoryUsage().rss);
        // Written as it goes: the file grows with the cases, nothing piles up in memory.
        const size = await onDisk();
        expect(size).toBeGreaterThan(lastOnDisk + 5_000_000);
        lastOnDisk = size;
      }
    }
    const summary = await writer.close();
    expect(summary.cases).toBe(count);
    const size = (await fs.stat(file)).size;
    expect(size).toBeGreaterThan(60_000_000);
    // Loose: the writer holds a 1 MiB buffer; the rest is garbage waiting for collection.
    expect(peak - start).toBeLessThan(size);

    const back = await readBack(file);
    expect(back.info.get('Cases')).toBe(String(count));
    expect(back.mrsets.map((set) => set.variables)).toEqual([names.slice(3)]);
    expect(back.rows).toHaveLength(count);
    for (const i of [1, 2, 10, 99_999, count])
      expectCase(back.rows[i - 1], variables, caseOf(i), `case ${i}`);
  }, 300_000);
});
