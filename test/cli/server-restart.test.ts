import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATEGORIES, expectEveryRowCoded, makeAnswers, readOutput, writeSurvey } from '../helpers/survey.js';
import { isRunning, processesMentioning, serverRecord } from '../helpers/leftovers.js';
import { waitFor } from '../helpers/processes.js';
import { temporalCliPath } from '../helpers/temporal.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-restart-'));
});
afterAll(async () => {
  for (const p of await processesMentioning(dir)) process.kill(p.pid, 'SIGKILL');
  await fs.rm(dir, { recursive: true, force: true });
});

async function storedBatches(dataDir: string): Promise<number> {
  const jobs = await fs.readdir(path.join(dataDir, 'jobs')).catch(() => []);
  let count = 0;
  for (const job of jobs) {
    const results = await fs.readdir(path.join(dataDir, 'jobs', job, 'results')).catch(() => []);
    count += results.filter((f) => f.endsWith('.json')).length;
  }
  return count;
}

describe('the embedded Temporal server, supervised by the process that started it', () => {
  it('killed with SIGKILL mid-job, is restarted on the same database and port; the same classify finishes, every row coded once', async () => {
    const dataDir = path.join(dir, 'data');
    const input = path.join(dir, 'survey.xlsx');
    const out = path.join(dir, 'coded.xlsx');
    const categoriesFile = path.join(dir, 'categories.txt');
    const answers = makeAnswers(300);
    const survey = await writeSurvey(input, answers);
    await fs.writeFile(categoriesFile, CATEGORIES.map((c) => `${c.name}: ${c.description ?? ''}`).join('\n'));

    const child = spawn(
      process.execPath,
      [
        path.join(root, 'bin/verbatim.js'),
        'classify',
        input,
        '--column',
        'E2',
        '--categories-file',
        categoriesFile,
        '--out',
        out,
      ],
      {
        cwd: dir,
        env: {
          ...process.env,
          DATA_DIR: dataDir,
          SIMULATOR_LATENCY_MS: '500',
          TEMPORAL_CLI_PATH: await temporalCliPath(),
          TEMPORAL_ADDRESS: '',
          OPENAI_API_KEY: '',
          PARALLEL_MAX_WORKERS: '3',
          // Ten answers a request, as before BATCH_SIZE's default became 50: thirty batches, so there is a middle.
          BATCH_SIZE: '10',
          // An activity whose completion was sent while the server was down is retried this soon.
          HEARTBEAT_TIMEOUT: '3',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
      child.once('exit', (code, signal) => resolve(signal ?? code)),
    );

    // Mid-job: six of the 30 batches stored.
    await waitFor(
      async () => ((await storedBatches(dataDir)) >= 6 ? true : undefined),
      120_000,
      'six batches',
    );
    const first = await serverRecord(dataDir);
    if (!first) throw new Error('no server record');
    process.kill(first.pid, 'SIGKILL');
    expect(await storedBatches(dataDir)).toBeLessThan(30);

    // A new server, on the same port (the record is rewritten once it listens).
    const second = await waitFor(
      async () => {
        const record = await serverRecord(dataDir);
        return record && record.pid !== first.pid ? record : undefined;
      },
      60_000,
      'a restarted server',
    );
    expect(second.port).toBe(first.port);

    expect(await exited, output).toBe(0);
    expect(output).toMatch(/Coded \d+ answers/);
    // One plain line says what happened, and nothing else about it: no stack, no retry warnings.
    const said = output.match(
      new RegExp(
        `The embedded Temporal server stopped unexpectedly \\(killed by SIGKILL\\); restarted it on the same ` +
          `database at 127\\.0\\.0\\.1:${first.port} in (\\d+\\.\\d) s\\. Work carries on\\.`,
        'g',
      ),
    );
    expect(said, output).toHaveLength(1);
    expect(output).not.toMatch(/^\s+at /m);
    expect(output).not.toMatch(/ServiceError|failed|retried \d+ times/);
    const warnings = output.split('\n').filter((line) => /WARN|"level":[45]0/.test(line));
    expect(warnings.length, warnings.join('\n')).toBeLessThanOrEqual(2);

    expectEveryRowCoded(await readOutput(out), answers, survey);

    // Stopped at the end like any server it owns: record gone, nothing of this DATA_DIR left running.
    expect(await serverRecord(dataDir)).toBeUndefined();
    expect(await isRunning(second.pid)).toBe(false);
    expect(await processesMentioning(dataDir)).toEqual([]);
  }, 240_000);
});
