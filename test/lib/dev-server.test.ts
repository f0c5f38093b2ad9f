import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevServerLostError, startDevServer } from '../../lib/dev-server.js';
import type { DevServer } from '../../lib/dev-server.js';
import { createLogger } from '../../lib/logger.js';
import { isRunning, processesMentioning, serverRecord } from '../helpers/leftovers.js';
import { waitFor } from '../helpers/processes.js';
import { temporalCliPath } from '../helpers/temporal.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-dev-server-'));
});
afterAll(async () => {
  for (const p of await processesMentioning(dir)) process.kill(p.pid, 'SIGKILL');
  await fs.rm(dir, { recursive: true, force: true });
});

async function start(dataDir: string, lines: string[]): Promise<DevServer> {
  return startDevServer({
    cliPath: await temporalCliPath(),
    dataDir,
    namespace: 'default',
    headless: true,
    logger: createLogger('silent'),
    notify: (line) => lines.push(line),
  });
}

/** A new server in the record, once it listens. */
function restarted(dataDir: string, pid: number) {
  return waitFor(
    async () => {
      const record = await serverRecord(dataDir);
      return record && record.pid !== pid ? record : undefined;
    },
    60_000,
    'a restarted server',
  );
}

async function expectServing(address: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const { namespaceInfo } = await client.workflowService.describeNamespace({ namespace: 'default' });
    expect(namespaceInfo?.name).toBe('default');
  } finally {
    await connection.close();
  }
}

/** A verbatim process that started the server and was then killed with SIGKILL, leaving it behind. */
async function leaveServerBehind(dataDir: string): Promise<number> {
  const script = `
    const { startDevServer } = await import(${JSON.stringify(path.join(root, 'lib/dev-server.ts'))});
    const { createLogger } = await import(${JSON.stringify(path.join(root, 'lib/logger.ts'))});
    await startDevServer({ cliPath: ${JSON.stringify(await temporalCliPath())}, dataDir: ${JSON.stringify(dataDir)},
      namespace: 'default', headless: true, logger: createLogger('silent') });
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);`;
  const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  owner.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await waitFor(() => (out.includes('ready') ? true : undefined), 120_000, 'the first owner to start');
  const exited = new Promise((resolve) => owner.once('exit', resolve));
  owner.kill('SIGKILL');
  await exited;
  const record = await serverRecord(dataDir);
  if (!record || !(await isRunning(record.pid))) throw new Error('no server left behind');
  return record.pid;
}

describe('the embedded Temporal server', () => {
  it('started here and killed, is restarted on the same database and port, once; stopped here, is not', async () => {
    const dataDir = path.join(dir, 'own');
    const lines: string[] = [];
    const server = await start(dataDir, lines);
    const first = await serverRecord(dataDir);
    if (!first) throw new Error('no server record');

    process.kill(first.pid, 'SIGKILL');
    const second = await restarted(dataDir, first.pid);
    expect(second.port).toBe(first.port);
    expect(server.address).toBe(`127.0.0.1:${first.port}`);
    expect(server.restarting).toBe(false);
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^The embedded Temporal server stopped unexpectedly \\(killed by SIGKILL\\); restarted it on the same ` +
            `database at 127\\.0\\.0\\.1:${first.port} in \\d+\\.\\d s\\. Work carries on\\.$`,
        ),
      ),
    ]);
    await expectServing(server.address);

    await server.stop();
    expect(await isRunning(second.pid)).toBe(false);
    expect(await serverRecord(dataDir)).toBeUndefined();
    expect(await processesMentioning(dataDir)).toEqual([]);
    expect(lines).toHaveLength(1);
  }, 180_000);

  it('adopted from a verbatim process killed with SIGKILL, is watched and restarted too', async () => {
    const dataDir = path.join(dir, 'adopted');
    const leftPid = await leaveServerBehind(dataDir);
    const lines: string[] = [];
    const server = await start(dataDir, lines);
    expect(server.owned).toBe(true);
    expect((await serverRecord(dataDir))?.pid).toBe(leftPid);

    // Not our child: no exit event, and where nothing reaps orphans it lingers as a zombie.
    process.kill(leftPid, 'SIGKILL');
    await restarted(dataDir, leftPid);
    expect(lines).toEqual([expect.stringMatching(/stopped unexpectedly \(it exited\); restarted it/)]);
    await expectServing(server.address);
    await server.stop();
    expect(await processesMentioning(dataDir)).toEqual([]);
  }, 240_000);

  it('says, without restarting it elsewhere, that the server is lost when its port was taken meanwhile', async () => {
    const dataDir = path.join(dir, 'taken');
    const leftPid = await leaveServerBehind(dataDir);
    const lines: string[] = [];
    const server = await start(dataDir, lines);
    const port = Number(server.address.split(':')[1]);

    process.kill(leftPid, 'SIGKILL');
    const squatter = net.createServer();
    await waitFor(
      () =>
        new Promise<true | undefined>((resolve) => {
          squatter.once('error', () => resolve(undefined));
          squatter.listen(port, '127.0.0.1', () => resolve(true));
        }),
      30_000,
      'the port to be free',
    );
    try {
      const error = await server.lost.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DevServerLostError);
      expect(String(error)).toMatch(
        new RegExp(`could not be started again on port ${port}: port ${port} is taken by another process`),
      );
      expect(lines).toEqual([]);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
      await server.stop();
    }
    expect(await processesMentioning(dataDir)).toEqual([]);
  }, 240_000);
});
