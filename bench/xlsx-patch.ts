/**
 * `npx tsx bench/xlsx-patch.ts [rows…]` (default 100000 1000000)
 *
 * Time and peak memory of `patchWorkbook` on a generated survey workbook: per size, the workbook is written
 * (answers as shared strings, dates, formulas, a header row, a second sheet), then patched in a fresh
 * process (so its peak RSS is the patch's own) with a label column, its header and a Summary and Run
 * sheet, and the output is checked: one label per data row, every other part unchanged.
 * Prints a table; writes bench/results/xlsx-patch-<time>.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { dosDateTime, ZipWriter } from '../sheets/zip-write.js';
import { patchWorkbook } from '../sheets/xlsx-patch.js';
import { inspectXlsx, openEntry } from '../sheets/zip.js';

const LABELS = ['Price', 'Service', 'Delivery', 'Other'];
const TOPICS = ['price', 'service', 'delivery', 'the app', 'waiting times'];

/** A survey workbook of `rows` data rows, written as Excel would (shared strings, styles), streamed. */
export async function writeSurveyXlsx(file: string, rows: number): Promise<void> {
  const zip = await ZipWriter.create(file);
  const stamp = dosDateTime(new Date(2024, 0, 1));
  const add = (name: string, xml: string) => zip.addBuffer({ name, ...stamp }, Buffer.from(xml, 'utf8'));
  const decl = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
  const main = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
  const rel = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
  const ct = 'application/vnd.openxmlformats-officedocument.spreadsheetml';
  try {
    await add(
      '[Content_Types].xml',
      `${decl}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        `<Override PartName="/xl/workbook.xml" ContentType="${ct}.sheet.main+xml"/>` +
        `<Override PartName="/xl/worksheets/sheet1.xml" ContentType="${ct}.worksheet+xml"/>` +
        `<Override PartName="/xl/worksheets/sheet2.xml" ContentType="${ct}.worksheet+xml"/>` +
        `<Override PartName="/xl/styles.xml" ContentType="${ct}.styles+xml"/>` +
        `<Override PartName="/xl/sharedStrings.xml" ContentType="${ct}.sharedStrings+xml"/></Types>`,
    );
    await add(
      '_rels/.rels',
      `${decl}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
        `<Relationship Id="rId1" Type="${rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    );
    await add(
      'xl/workbook.xml',
      `${decl}<workbook xmlns="${main}" xmlns:r="${rel}"><sheets>` +
        '<sheet name="Responses" sheetId="1" r:id="rId1"/><sheet name="Codes" sheetId="2" r:id="rId2"/></sheets>' +
        '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">' +
        `Responses!$A$1:$D$${rows + 1}</definedName></definedNames></workbook>`,
    );
    await add(
      'xl/_rels/workbook.xml.rels',
      `${decl}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
        `<Relationship Id="rId1" Type="${rel}/worksheet" Target="worksheets/sheet1.xml"/>` +
        `<Relationship Id="rId2" Type="${rel}/worksheet" Target="worksheets/sheet2.xml"/>` +
        `<Relationship Id="rId3" Type="${rel}/styles" Target="styles.xml"/>` +
        `<Relationship Id="rId4" Type="${rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
    );
    await add(
      'xl/styles.xml',
      `${decl}<styleSheet xmlns="${main}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>` +
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>' +
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' +
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>' +
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>',
    );
    await zip.addStream({ name: 'xl/worksheets/sheet1.xml', ...stamp }, sheetXml(rows));
    await add(
      'xl/worksheets/sheet2.xml',
      `${decl}<worksheet xmlns="${main}"><dimension ref="A1:B1"/><sheetData><row r="1">` +
        '<c r="A1" t="inlineStr"><is><t>code</t></is></c><c r="B1" t="inlineStr"><is><t>label</t></is></c>' +
        '</row></sheetData><mergeCells count="1"><mergeCell ref="A3:B3"/></mergeCells></worksheet>',
    );
    await zip.addStream({ name: 'xl/sharedStrings.xml', ...stamp }, sharedStringsXml(rows));
    await zip.finish();
  } catch (error) {
    await zip.abort();
    throw error;
  }
}

/** Shared string i: 0–3 the headers, then the answer of data row i - 3 (rows without an answer have none). */
function answer(i: number): string {
  return `Answer ${i}: mostly about ${TOPICS[i % TOPICS.length] ?? ''}, and some more words after that`;
}

function* sheetXml(rows: number): Generator<Buffer> {
  yield Buffer.from(
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
      '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
      `<dimension ref="A1:D${rows + 1}"/><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" state="frozen"/></sheetView></sheetViews>` +
      '<cols><col min="1" max="1" width="10" customWidth="1"/><col min="3" max="3" width="60" customWidth="1"/></cols><sheetData>' +
      '<row r="1" spans="1:4"><c r="A1" s="2" t="s"><v>0</v></c><c r="B1" s="2" t="s"><v>1</v></c>' +
      '<c r="C1" s="2" t="s"><v>2</v></c><c r="D1" s="2" t="s"><v>3</v></c></row>',
  );
  let chunk = '';
  for (let i = 1; i <= rows; i += 1) {
    const r = i + 1;
    const text = i % 7 === 0 ? '' : `<c r="C${r}" t="s"><v>${i + 3}</v></c>`;
    chunk +=
      `<row r="${r}" spans="1:4"><c r="A${r}"><v>${i}</v></c><c r="B${r}" s="1"><v>${45000 + (i % 365)}</v></c>` +
      `${text}<c r="D${r}"><f>A${r}*2</f><v>${i * 2}</v></c></row>`;
    if (chunk.length > 1 << 20) {
      yield Buffer.from(chunk, 'utf8');
      chunk = '';
    }
  }
  yield Buffer.from(
    `${chunk}</sheetData><autoFilter ref="A1:D${rows + 1}"/><mergeCells count="1"><mergeCell ref="F1:G1"/></mergeCells>` +
      '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>',
    'utf8',
  );
}

function* sharedStringsXml(rows: number): Generator<Buffer> {
  const count = rows + 4;
  let chunk =
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="${count}" uniqueCount="${count}">` +
    '<si><t>Respondent</t></si><si><t>Date</t></si><si><t>E2</t></si><si><t>Twice</t></si>';
  for (let i = 1; i <= rows; i += 1) {
    chunk += `<si><t>${answer(i)}</t></si>`;
    if (chunk.length > 1 << 20) {
      yield Buffer.from(chunk, 'utf8');
      chunk = '';
    }
  }
  yield Buffer.from(`${chunk}</sst>`, 'utf8');
}

/** The label the patch writes on data row `row` (row 1 is the header); rows without an answer get none. */
export function labelOf(row: number): string | undefined {
  const i = row - 1;
  return i % 7 === 0 ? undefined : (LABELS[i % LABELS.length] ?? 'Other');
}

export async function patchSurvey(input: string, output: string, rows: number) {
  return patchWorkbook({
    inputPath: input,
    displayName: path.basename(input),
    outPath: output,
    sheet: 'Responses',
    columns: [{ index: 5, header: { row: 1, text: 'E2 category' }, width: 14, value: labelOf }],
    rows: { from: 2, to: rows + 1 },
    widenAutoFilter: true,
    addSheets: [
      { name: 'Summary', rows: [['Category', 'Count', '%'], ...LABELS.map((l) => [l, 1, 0.25])] },
      {
        name: 'Run',
        rows: [
          ['Setting', 'Value'],
          ['Rows', rows],
        ],
      },
    ],
    maxUnpackedBytes: 2 ** 32,
  });
}

/** The child process: patches and prints its own time and peak RSS as JSON. */
async function child(input: string, output: string, rows: number): Promise<void> {
  const started = performance.now();
  const result = await patchSurvey(input, output, rows);
  const seconds = (performance.now() - started) / 1000;
  const usage = process.resourceUsage();
  const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
  process.stdout.write(
    `${JSON.stringify({ seconds, cpuSeconds, peakRssMiB: usage.maxRSS / 1024, rowsPatched: result.rowsPatched })}\n`,
  );
}

/** Counts the label cells of the output's sheet part and checks that each is the expected label. */
async function verify(output: string, rows: number): Promise<number> {
  const directory = await inspectXlsx(output, output, 2 ** 32);
  const entry = directory.entries.find((e) => e.name === 'xl/worksheets/sheet1.xml');
  if (!entry) throw new Error('no sheet part in the output');
  const cell = /<c r="E(\d+)"[^>]*><is><t xml:space="preserve">([^<]*)<\/t>/g;
  let carry = '';
  let labels = 0;
  for await (const chunk of openEntry(output, entry, output).setEncoding('utf8') as AsyncIterable<string>) {
    const text = carry + chunk;
    let end = 0;
    for (const m of text.matchAll(cell)) {
      const row = Number(m[1]);
      const expected = row === 1 ? 'E2 category' : labelOf(row);
      if (m[2] !== expected) throw new Error(`row ${row}: ${m[2]} instead of ${expected}`);
      labels += 1;
      end = (m.index ?? 0) + m[0].length;
    }
    carry = text.slice(Math.max(end, text.length - 4096));
  }
  const expected = 1 + Array.from({ length: rows }, (_, i) => labelOf(i + 2)).filter(Boolean).length;
  if (labels !== expected) throw new Error(`${labels} labels written, ${expected} expected`);
  return labels;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    await child(args[1] ?? '', args[2] ?? '', Number(args[3]));
    return;
  }
  if (args[0] === '--baseline') {
    // The same process with the modules loaded and nothing done: what Node and tsx cost by themselves.
    process.stdout.write(`${JSON.stringify({ peakRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
    return;
  }
  const sizes = args.length > 0 ? args.map(Number) : [100_000, 1_000_000];
  const run = (...childArgs: string[]) =>
    execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...childArgs], {
      encoding: 'utf8',
    });
  const baseline = (JSON.parse(run('--baseline')) as { peakRssMiB: number }).peakRssMiB;
  console.log(`baseline (Node, tsx and the modules, nothing done): peak RSS ${baseline.toFixed(0)} MiB`);
  const dir = await mkdtemp(path.join(tmpdir(), 'verbatim-xlsx-patch-'));
  const results = [];
  try {
    for (const rows of sizes) {
      const input = path.join(dir, `survey-${rows}.xlsx`);
      const output = path.join(dir, `survey-${rows}.coded.xlsx`);
      await writeSurveyXlsx(input, rows);
      const figures = JSON.parse(run('--child', input, output, String(rows))) as {
        seconds: number;
        cpuSeconds: number;
        peakRssMiB: number;
        rowsPatched: number;
      };
      const labels = await verify(output, rows);
      const row = {
        rows,
        inputMiB: (await stat(input)).size / 2 ** 20,
        outputMiB: (await stat(output)).size / 2 ** 20,
        seconds: figures.seconds,
        cpuSeconds: figures.cpuSeconds,
        rowsPerSecond: rows / figures.seconds,
        rowsPerCpuSecond: rows / figures.cpuSeconds,
        peakRssMiB: figures.peakRssMiB,
        rowsPatched: figures.rowsPatched,
        labels,
      };
      results.push(row);
      console.log(
        `${String(rows).padStart(9)} rows  ${row.inputMiB.toFixed(1).padStart(6)} MiB in  ${row.outputMiB.toFixed(1).padStart(6)} MiB out  ` +
          `${row.seconds.toFixed(2).padStart(6)} s (CPU ${row.cpuSeconds.toFixed(2)} s)  ` +
          `${Math.round(row.rowsPerSecond).toLocaleString('en').padStart(9)} rows/s  peak RSS ${row.peakRssMiB.toFixed(0)} MiB`,
      );
      await rm(input);
      await rm(output);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const file = path.join(
    path.dirname(fileURLToPath(import.meta.url)),
    'results',
    `xlsx-patch-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}Z.json`,
  );
  // Other work on the machine stretches wall time; the load average says how much there was.
  const loadAverage = os.loadavg()[0] ?? 0;
  const cores = os.cpus().length;
  const summary = { node: process.version, cores, loadAverage, baselineRssMiB: baseline, results };
  await writeFile(file, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`written ${path.relative(process.cwd(), file)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
