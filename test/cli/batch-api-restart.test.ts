import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../simulator/index.js';
import { startSimulator } from '../../simulator/index.js';
import { processesMentioning, serverRecord } from '../helpers/leftovers.js';
import { waitFor } from '../helpers/processes.js';
import { CATEGORIES, expectEveryRowCoded, makeAnswers, readOutput, writeSurvey } from '../helpers/survey.js';
import { temporalCliPath } from '../helpers/temporal.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;
let sim: Simulator;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-batch-restart-'));
  // Outside the processes killed below, as OpenAI is: its batches go on whatever happens to the job. A line
  // takes 0.3 s, so the batch runs for seconds.
  sim = await startSimulator({ timeScale: 0.01, batch: { lineMs: 30_000 } });
});
afterAll(async () => {
  for (const p of await processesMentioning(dir)) process.kill(p.pid, 'SIGKILL');
  await sim?.close();
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

describe('verbatim classify --batch-api', () => {
  it('waiting on its batch, survives the Temporal server killed and restarted and its worker killed: the same command finishes, nothing sent twice', async () => {
    const dataDir = path.join(dir, 'data');
    const input = path.join(dir, 'survey.xlsx');
    const out = path.join(dir, 'coded.xlsx');
    const categoriesFile = path.join(dir, 'categories.txt');
    const answers = makeAnswers(300);
    const survey = await writeSurvey(input, answers);
    await fs.writeFile(categoriesFile, CATEGORIES.map((c) => `${c.name}: ${c.description ?? ''}`).join('\n'));
    const env = {
      DATA_DIR: dataDir,
      TEMPORAL_CLI_PATH: await temporalCliPath(),
      TEMPORAL_ADDRESS: '',
      OPENAI_API_KEY: 'sk-batch-test',
      OPENAI_BASE_URL: sim.baseURL,
      OPENAI_BATCH_POLL: '0.2',
      OPENAI_BATCH_POLL_MAX: '0.5',
      BATCH_SIZE: '10',
      HEARTBEAT_TIMEOUT: '3',
    };
    const args = [input, '--column', 'E2', '--categories-file', categoriesFile, '--out', out, '--batch-api'];
    const openai = new OpenAI({ apiKey: 'x', baseURL: sim.baseURL, maxRetries: 0 });
    const running = async () => {
      const { data } = await openai.batches.list({ limit: 10 });
      const batch = data[0];
      return batch?.status === 'in_progress' && (batch.request_counts?.completed ?? 0) > 0
        ? batch
        : undefined;
    };

    const first = classify(args, env);
    const batch = await waitFor(running, 120_000, 'the batch to run');

    // The server goes (killed, restarted on the same database by the command), then the worker with it.
    const server = await serverRecord(dataDir);
    if (!server) throw new Error('no server record');
    process.kill(server.pid, 'SIGKILL');
    await waitFor(
      async () => ((await serverRecord(dataDir))?.pid ?? server.pid) !== server.pid || undefined,
      60_000,
      'a restarted server',
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    // Killed while OpenAI still ran the batch: the job was waiting on it.
    expect((await openai.batches.retrieve(batch.id)).status).toBe('in_progress');

    const second = classify(args, env);
    expect(await second.exited, second.output()).toBe(0);
    expect(second.output()).toMatch(/Resuming job job-/);
    expect(second.output()).toMatch(/Coded \d+ answers/);
    expectEveryRowCoded(await readOutput(out), answers, survey);

    // One file uploaded, one batch, read once: the second run took the first's batch up where it was.
    const stats = sim.stats();
    expect(stats.batch.filesCreated).toBe(1);
    expect(stats.batch.batchesCreated).toBe(1);
    expect(stats.batch.byStatus).toEqual({ completed: 1 });
    expect(stats.requests).toBe(0);
  }, 300_000);
});
