import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import {
  CATEGORIES,
  NETTED_CATEGORIES,
  expectEveryRowCoded,
  expectedSet,
  makeAnswers,
  makeMultiAnswers,
  readOutput,
  writeSurvey,
} from '../helpers/survey.js';
import { waitFor } from '../helpers/processes.js';
import { temporalCliPath } from '../helpers/temporal.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-cli-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function classify(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [path.join(root, 'bin/verbatim.js'), 'classify', ...args], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  return { child, exited, output: () => out };
}

async function resultFiles(dataDir: string): Promise<Map<string, string>> {
  const jobs = await fs.readdir(path.join(dataDir, 'jobs')).catch(() => []);
  const files = new Map<string, string>();
  for (const job of jobs) {
    const results = path.join(dataDir, 'jobs', job, 'results');
    for (const f of await fs.readdir(results).catch(() => [])) {
      if (f.endsWith('.json')) files.set(`${job}/${f}`, await fs.readFile(path.join(results, f), 'utf8'));
    }
  }
  return files;
}

describe('verbatim classify', () => {
  it('killed with SIGKILL and run again with the same arguments, resumes the same job without resending done batches', async () => {
    const dataDir = path.join(dir, 'data');
    const input = path.join(dir, 'survey.xlsx');
    const out = path.join(dir, 'coded.xlsx');
    const categoriesFile = path.join(dir, 'categories.txt');
    const answers = makeAnswers(300);
    const survey = await writeSurvey(input, answers);
    await fs.writeFile(categoriesFile, CATEGORIES.map((c) => `${c.name}: ${c.description ?? ''}`).join('\n'));
    const env = {
      DATA_DIR: dataDir,
      SIMULATOR_LATENCY_MS: '400',
      TEMPORAL_CLI_PATH: await temporalCliPath(),
      TEMPORAL_ADDRESS: '',
      OPENAI_API_KEY: '',
      PARALLEL_MAX_WORKERS: '3',
      HEARTBEAT_TIMEOUT: '3',
      // Ten answers a request, as before BATCH_SIZE's default became 50: thirty batches, so there is a middle.
      BATCH_SIZE: '10',
    };
    const args = [input, '--column', 'E2', '--categories-file', categoriesFile, '--out', out];

    const first = classify(args, env);
    await waitFor(
      async () => ((await resultFiles(dataDir)).size >= 6 ? true : undefined),
      120_000,
      'six batches coded',
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    expect(first.output()).toMatch(/NO OPENAI_API_KEY: SIMULATED RUN/);
    const before = await resultFiles(dataDir);
    const jobsBefore = await fs.readdir(path.join(dataDir, 'jobs'));

    const second = classify(args, env);
    expect(await second.exited, second.output()).toBe(0);
    expect(second.output()).toMatch(/Resuming job job-/);
    expect(second.output()).toMatch(/Coded \d+ answers/);

    // The same job, and every batch stored before the kill was left as it was: not sent again.
    expect(await fs.readdir(path.join(dataDir, 'jobs'))).toEqual(jobsBefore);
    const after = await resultFiles(dataDir);
    for (const [file, content] of before) expect(after.get(file), file).toBe(content);
    expect(after.size).toBeGreaterThan(before.size);

    const output = await readOutput(out);
    expectEveryRowCoded(output, answers, survey);
    const run = output.getWorksheet('Run');
    expect(run?.getCell('A1').text).toMatch(/SIMULATED RUN/);

    // The embedded server the killed run left behind was adopted and stopped at the end.
    await expect(fs.access(path.join(dataDir, 'temporal', 'server.json'))).rejects.toThrow();
  }, 240_000);

  it('names the problem and starts nothing for a missing file, column or categories', async () => {
    const input = path.join(dir, 'bad.xlsx');
    await writeSurvey(input, makeAnswers(5));
    const env = {
      DATA_DIR: path.join(dir, 'data-bad'),
      TEMPORAL_CLI_PATH: await temporalCliPath(),
      TEMPORAL_ADDRESS: '',
    };
    const missing = classify(['nope.xlsx', '--column', 'E2', '--categories', 'A; B'], env);
    expect(await missing.exited).toBe(1);
    expect(missing.output()).toMatch(/Input file not found: nope\.xlsx/);

    const column = classify([input, '--column', 'Q99', '--categories', 'A; B'], env);
    expect(await column.exited).toBe(1);
    expect(column.output()).toMatch(/Column "Q99" not found in sheet "Data" of bad\.xlsx/);
    expect(column.output()).toMatch(/E "E2"/);

    const duplicate = classify([input, '--column', 'E2', '--categories', 'Price; price '], env);
    expect(await duplicate.exited).toBe(1);
    expect(duplicate.output()).toMatch(/Duplicate categories/);

    const usage = classify([input], env);
    expect(await usage.exited).toBe(2);
    expect(usage.output()).toMatch(/--column is required/);

    const codesFile = path.join(dir, 'codes.txt');
    await fs.writeFile(codesFile, '101 Price\n[Service]\n101 Staff\n');
    const codes = classify([input, '--column', 'E2', '--categories-file', codesFile], env);
    expect(await codes.exited).toBe(1);
    expect(codes.output()).toContain(
      `Category on line 3 of ${codesFile} ("Staff") has code 101, which line 1 ("Price") already has`,
    );
    const maxCodes = classify(
      [input, '--column', 'E2', '--categories', 'A; B', '--multi', '--max-codes', '0'],
      env,
    );
    expect(await maxCodes.exited).not.toBe(0);
    // Named as the person typed it: the flag, not the variable behind it.
    expect(maxCodes.output()).toMatch(/--max-codes must be a whole number from 1 to 100 \(got "0"\)/);
  }, 240_000);

  it('codes every category that applies with --multi, the codeframe given as an .xlsx table with nets', async () => {
    const input = path.join(dir, 'multi.xlsx');
    const out = path.join(dir, 'multi.coded.xlsx');
    const answers = makeMultiAnswers(60);
    const survey = await writeSurvey(input, answers);
    const codeframe = new ExcelJS.Workbook();
    const sheet = codeframe.addWorksheet('Codes');
    sheet.addRow(['Code', 'Label', 'Description', 'Net']);
    for (const c of NETTED_CATEGORIES) {
      sheet.addRow([
        c.code ?? null,
        c.name,
        c.description ?? null,
        c.net ? `${c.netCode ?? ''} ${c.net}`.trim() : null,
      ]);
    }
    const codeframeFile = path.join(dir, 'codeframe.xlsx');
    await codeframe.xlsx.writeFile(codeframeFile);
    const env = {
      DATA_DIR: path.join(dir, 'data-multi'),
      SIMULATOR_LATENCY_MS: '5',
      TEMPORAL_CLI_PATH: await temporalCliPath(),
      TEMPORAL_ADDRESS: '',
      OPENAI_API_KEY: '',
    };
    const args = [input, '--column', 'E2', '--categories-file', codeframeFile, '--multi', '--max-codes', '2'];
    const run = classify([...args, '--out', out], env);
    expect(await run.exited, run.output()).toBe(0);

    const data = (await readOutput(out)).getWorksheet('Data');
    if (!data) throw new Error('no Data sheet');
    expect(data.getCell('H2').text).toBe('E2: Price');
    expect(data.getCell('P2').text).toBe('E2: NET Product');
    answers.forEach((answer, i) => {
      const row = survey.rows[i] ?? 0;
      const want = expectedSet(answer, NETTED_CATEGORIES, 2);
      expect(data.getCell(`G${row}`).text, `row ${row}`).toBe(want.join('; '));
      expect(data.getCell(`H${row}`).value, `row ${row}`).toBe(want.includes('Price') ? 1 : 0);
    });
  }, 240_000);
});
