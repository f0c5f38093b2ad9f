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
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-signals-'));
});
afterAll(async () => {
  for (const p of await processesMentioning(dir)) process.kill(p.pid, 'SIGKILL');
  await fs.rm(dir, { recursive: true, force: true });
});

/** A command as a person types it, from the repository (README: `npx verbatim serve`, `npm start`). */
function run(command: string, args: string[], env: Record<string, string>, group = false) {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own, as a terminal gives a command: Ctrl-C signals the whole group.
    detached: group,
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  // npm may exit before the node process it started, which still writes to the same pipes.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return { child, exited, closed, output: () => output };
}

async function envFor(dataDir: string): Promise<Record<string, string>> {
  return {
    DATA_DIR: dataDir,
    PORT: '0',
    TEMPORAL_ADDRESS: '',
    TEMPORAL_CLI_PATH: await temporalCliPath(),
    OPENAI_API_KEY: '',
    OPENAI_BASE_URL: '',
    LOG_LEVEL: 'warn',
  };
}

/** Nothing of this DATA_DIR runs any more: not npm, its shell, node, nor the embedded Temporal server. */
async function expectNothingLeft(dataDir: string, serverPid: number): Promise<void> {
  await waitFor(
    async () => ((await processesMentioning(dataDir)).length === 0 ? true : undefined),
    90_000,
    `every process of ${dataDir} to end`,
  ).catch(async (error: unknown) => {
    throw new Error(`${String(error)}: ${JSON.stringify(await processesMentioning(dataDir))}`);
  });
  expect(await isRunning(serverPid)).toBe(false);
  // Removed by the stop of the server verbatim owns: it was stopped, not left behind or merely killed.
  expect(await serverRecord(dataDir)).toBeUndefined();
}

describe('SIGTERM or SIGINT to the process the user started stops everything it started', () => {
  // SIGINT as a terminal's Ctrl-C sends it, to the whole group: a `kill -INT` of the npx process alone is
  // held by npm's shell (README); `npm start` runs node in that shell's place, so it takes one directly.
  for (const [name, command, args, signal, group] of [
    ['npx verbatim serve', 'npx', ['verbatim', 'serve'], 'SIGTERM', false],
    ['npm start', 'npm', ['start'], 'SIGTERM', false],
    ['npx verbatim serve, Ctrl-C', 'npx', ['verbatim', 'serve'], 'SIGINT', true],
    ['npm start', 'npm', ['start'], 'SIGINT', false],
  ] as const) {
    it(`${name}: ${signal}`, async () => {
      const dataDir = path.join(dir, `data-${command}-${signal}`);
      const serve = run(command, [...args], await envFor(dataDir), group);
      await waitFor(
        () => (/verbatim is running/.test(serve.output()) ? true : undefined),
        120_000,
        `${name} to start`,
      );
      const server = await serverRecord(dataDir);
      if (!server) throw new Error('no server record');
      const pid = serve.child.pid;
      if (pid === undefined) throw new Error('no pid');

      process.kill(group ? -pid : pid, signal);
      await serve.exited;
      await expectNothingLeft(dataDir, server.pid);
    }, 240_000);
  }

  it('npx verbatim classify, mid-job: stops cleanly, and the same command run again finishes the job', async () => {
    const dataDir = path.join(dir, 'data-classify');
    const input = path.join(dir, 'survey.xlsx');
    const out = path.join(dir, 'coded.xlsx');
    const categoriesFile = path.join(dir, 'categories.txt');
    const answers = makeAnswers(300);
    const survey = await writeSurvey(input, answers);
    await fs.writeFile(categoriesFile, CATEGORIES.map((c) => `${c.name}: ${c.description ?? ''}`).join('\n'));
    // Ten answers a request, as before BATCH_SIZE's default became 50: thirty batches, so there is a middle.
    const env = {
      ...(await envFor(dataDir)),
      SIMULATOR_LATENCY_MS: '500',
      PARALLEL_MAX_WORKERS: '3',
      BATCH_SIZE: '10',
    };
    const args = ['classify', input, '--column', 'E2', '--categories-file', categoriesFile, '--out', out];

    const first = run('npx', ['verbatim', ...args], env);
    await waitFor(
      async () => {
        const job = (await fs.readdir(path.join(dataDir, 'jobs')).catch(() => []))[0];
        if (!job) return undefined;
        const results = await fs.readdir(path.join(dataDir, 'jobs', job, 'results')).catch(() => []);
        return results.length >= 4 ? true : undefined;
      },
      120_000,
      'four batches coded',
    );
    const server = await serverRecord(dataDir);
    if (!server) throw new Error('no server record');

    first.child.kill('SIGTERM');
    await first.exited;
    await expectNothingLeft(dataDir, server.pid);
    await first.closed;
    expect(first.output()).toMatch(/Stopping\. The job keeps what is done/);
    expect(first.output()).not.toMatch(/^\s+at /m);
    expect(first.output()).not.toMatch(/failed/);

    const second = run(process.execPath, ['bin/verbatim.js', ...args], env);
    expect(await second.exited, second.output()).toBe(0);
    expect(second.output()).toMatch(/Resuming job job-/);
    expectEveryRowCoded(await readOutput(out), answers, survey);
  }, 240_000);
});
