import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCategories } from '../../domain/categories.js';
import { TABLE_HEADER } from '../../domain/codeframe-file.js';
import { generateThemedAnswers, themeOfLabel } from '../../simulator/themes.js';
import { waitFor } from '../helpers/processes.js';
import { writeSurvey } from '../helpers/survey.js';
import { temporalCliPath } from '../helpers/temporal.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-cf-cli-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function codeframe(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [path.join(root, 'bin/verbatim.js'), 'codeframe', ...args], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  return { child, exited, output: () => out, stdout: () => stdout };
}

/** Every stored chunk's themes, by draft and file: rewritten files would differ (latency is recorded). */
async function themeFiles(dataDir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const id of await fs.readdir(path.join(dataDir, 'jobs')).catch(() => [])) {
    const themes = path.join(dataDir, 'jobs', id, 'themes');
    for (const f of await fs.readdir(themes).catch(() => []))
      if (f.endsWith('.json')) files.set(`${id}/${f}`, await fs.readFile(path.join(themes, f), 'utf8'));
  }
  return files;
}

describe('verbatim codeframe', () => {
  it('killed with SIGKILL and run again, resumes the same draft, then prints the table and writes both files', async () => {
    const dataDir = path.join(dir, 'data');
    const input = path.join(dir, 'survey.xlsx');
    await writeSurvey(
      input,
      generateThemedAnswers(1_500, 31).map((a) => a.text),
    );
    const env = {
      DATA_DIR: dataDir,
      SIMULATOR_LATENCY_MS: '1500',
      TEMPORAL_CLI_PATH: await temporalCliPath(),
      TEMPORAL_ADDRESS: '',
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
      PARALLEL_MAX_WORKERS: '2',
      HEARTBEAT_TIMEOUT: '3',
    };
    const args = [input, '--column', 'E2', '--out', 'drafts/categories.txt', '--max-codes', '20'];

    const first = codeframe(args, env);
    await waitFor(
      async () => ((await themeFiles(dataDir)).size >= 2 ? true : undefined),
      120_000,
      'two chunks',
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    expect(first.output()).toMatch(/NO OPENAI_API_KEY: SIMULATED RUN/);
    expect(first.output()).toMatch(/Started codeframe cf-[0-9a-f]{20} \(survey\.xlsx, column E2\)/);
    const before = await themeFiles(dataDir);

    const second = codeframe(args, env);
    expect(await second.exited, second.output()).toBe(0);
    expect(second.output()).toMatch(/Resuming codeframe cf-/);
    // The same draft, and every chunk stored before the kill as it was: not sent again.
    const after = await themeFiles(dataDir);
    expect(new Set([...after.keys()].map((k) => k.split('/')[0])).size).toBe(1);
    for (const [file, content] of before) expect(after.get(file), file).toBe(content);
    expect(after.size).toBeGreaterThan(before.size);

    // The table: the codes with their shares, descriptions and an example; coverage; cost; files.
    const table = second.stdout();
    expect(table).toMatch(/⚠ SIMULATED/);
    expect(table).toMatch(
      /Draft codeframe: \d+ codes for survey\.xlsx, column E2 · coverage \d+\.\d % \(estimated from a sample of 400 answers\)/,
    );
    expect(table).toMatch(/^ Code {2}Label +Share {2}Description +Example$/m);
    expect(table).toMatch(/^ +\[Delivery\] +\d+\.\d %$/m);
    expect(table).toMatch(/^ +97 {2}Other +\d+\.\d % {2}answers no code fits$/m);
    expect(table).toMatch(/API calls: \d+ \(\d+ theme extraction, \d+ merge, \d+ measuring\)/);
    expect(table).toMatch(/Wrote drafts\/categories\.txt\n {2}and drafts\/categories\.xlsx/);
    expect(table).toMatch(
      /then: verbatim classify survey\.xlsx --column E2 --categories-file drafts\/categories\.txt/,
    );

    const text = await fs.readFile(path.join(dir, 'drafts/categories.txt'), 'utf8');
    const categories = parseCategories(text);
    expect(categories.at(-1)?.name).toBe('Other');
    const codes = categories.slice(0, -1);
    expect(codes.length).toBeGreaterThanOrEqual(11);
    expect(codes.length).toBeLessThanOrEqual(20);
    for (const c of codes) {
      expect(themeOfLabel(c.name), c.name).toBeDefined();
      const line = table.split('\n').find((l) => l.includes(`  ${c.name} `));
      expect(line, c.name).toMatch(/\d+\.\d % {2}\S.* {2}".+"?/);
    }
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(path.join(dir, 'drafts/categories.xlsx'));
    const sheet = workbook.worksheets[0];
    expect(sheet?.getRow(1).values).toEqual([undefined, ...TABLE_HEADER]);
    expect(sheet?.getRow(2).getCell(2).text).toBe(codes[0]?.name);
    expect(sheet?.getRow(2).getCell(6).text).not.toBe('');
    expect(sheet?.getRow(codes.length + 2).getCell(1).value).toBe(97);

    // Run again: the files hold the reviewer's edits now, and are not overwritten unless asked.
    const again = codeframe(args, env);
    expect(await again.exited).toBe(1);
    expect(again.output()).toMatch(/categories\.txt already exists \(your edits\?\): pass --force/);
  }, 300_000);

  it('names the problem and starts nothing for bad options', async () => {
    const input = path.join(dir, 'bad.xlsx');
    await writeSurvey(input, ['late again', 'too expensive']);
    const env = { DATA_DIR: path.join(dir, 'data-bad'), TEMPORAL_ADDRESS: '' };

    const usage = codeframe([input], env);
    expect(await usage.exited).toBe(2);
    expect(usage.output()).toMatch(/--column is required/);
    expect(usage.output()).toMatch(/Usage: verbatim codeframe/);

    const share = codeframe([input, '--column', 'E2', '--min-share', '2'], env);
    expect(await share.exited).toBe(1);
    expect(share.output()).toMatch(/min-share=2: must be a number from 0 to 0\.5/);

    const out = codeframe([input, '--column', 'E2', '--out', 'codes.xlsx'], env);
    expect(await out.exited).toBe(1);
    expect(out.output()).toMatch(/--out names the categories text file/);

    const column = codeframe([input, '--column', 'Q9'], env);
    expect(await column.exited).toBe(1);
    expect(column.output()).toMatch(/Column "Q9" not found in sheet "Data" of bad\.xlsx/);
    await expect(fs.access(path.join(dir, 'data-bad'))).rejects.toThrow();
  }, 120_000);

  it('never overwrites the input, even with --force: the table beside --out, a .txt read as CSV, a link', async () => {
    const env = { DATA_DIR: path.join(dir, 'data-input'), TEMPORAL_ADDRESS: '' };
    const input = path.join(dir, 'survey.xlsx');
    await writeSurvey(input, ['late again', 'too expensive']);
    const csv = path.join(dir, 'answers.txt');
    await fs.writeFile(csv, 'E2\nlate again\ntoo expensive\n');
    await fs.symlink(csv, path.join(dir, 'link.txt'));
    const before = [await fs.readFile(input), await fs.readFile(csv)];

    const cases: Array<[string[], string, string]> = [
      // --out survey.txt puts the table at survey.xlsx: the survey.
      [[input, '--column', 'E2', '--out', 'survey.txt', '--force'], 'survey.xlsx', input],
      [[input, '--column', 'E2', '--out', './sub/../survey', '--force'], 'survey.xlsx', input],
      [[csv, '--column', 'E2', '--out', 'answers.txt', '--force'], 'answers.txt', csv],
      [[csv, '--column', 'E2', '--out', 'link.txt', '--force'], 'link.txt', csv],
    ];
    await fs.mkdir(path.join(dir, 'sub'), { recursive: true });
    for (const [args, written, original] of cases) {
      const run = codeframe(args, env);
      expect(await run.exited, run.output()).toBe(1);
      expect(run.output()).toContain(
        `--out would write ${path.join(dir, written)}, which is the input file ${original}`,
      );
      expect(run.output()).toMatch(/pass another --out, such as \S+\.categories\.txt/);
    }
    expect([await fs.readFile(input), await fs.readFile(csv)]).toEqual(before);
    await expect(fs.access(path.join(dir, 'data-input'))).rejects.toThrow();
  }, 120_000);
});
