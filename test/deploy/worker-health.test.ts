/**
 * The worker's container health check: the heartbeat file that `verbatim worker` keeps (worker/main.ts) and
 * deploy/healthcheck.sh, which reads it and tries Temporal. Both sides run here, so that they agree on the
 * file and on what counts as fresh.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HeartbeatOptions } from '../../worker/main.js';
import { startHeartbeat, workerHeartbeatFile } from '../../worker/main.js';

const script = fileURLToPath(new URL('../../deploy/healthcheck.sh', import.meta.url));
let dir: string;
let file: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-health-'));
  file = workerHeartbeatFile(dir);
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});
const running: Array<{ stop(): Promise<void> }> = [];
/** A heartbeat that is stopped after the test, whatever happens in it. */
function beat(options: Omit<HeartbeatOptions, 'file'> & { file?: string }) {
  const heartbeat = startHeartbeat({ file, ...options });
  running.push(heartbeat);
  return heartbeat;
}
/** The heartbeat's text once a write has landed (the file exists, empty, while it is written). */
async function written(): Promise<string> {
  let text = '';
  await vi.waitFor(async () => {
    text = await fs.readFile(file, 'utf8');
    expect(text).not.toBe('');
  });
  return text;
}

beforeEach(async () => {
  await fs.rm(file, { force: true });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((heartbeat) => heartbeat.stop()));
});

describe('the worker heartbeat', () => {
  it('is a file in the temporary folder', () => {
    expect(workerHeartbeatFile('/tmp')).toBe('/tmp/verbatim-worker.heartbeat');
    expect(path.dirname(workerHeartbeatFile())).toBe(os.tmpdir());
  });

  it('is written at once, rewritten every interval, and removed on stop', async () => {
    const heartbeat = beat({ alive: () => true, intervalMs: 20 });
    const first = await written();
    // The time and the writer: `<ISO time> <pid>`.
    const [time, pid] = first.trim().split(' ');
    expect(Number.isNaN(Date.parse(time ?? ''))).toBe(false);
    expect(pid).toBe(String(process.pid));
    await vi.waitFor(async () => expect(await written()).not.toBe(first));
    await heartbeat.stop();
    expect(existsSync(file)).toBe(false);
  });

  it('leaves the file alone on stop when another worker on the machine wrote it last', async () => {
    const heartbeat = beat({ alive: () => true, intervalMs: 60_000 });
    await written();
    await fs.writeFile(file, `${new Date().toISOString()} 999999\n`);
    await heartbeat.stop();
    expect(await fs.readFile(file, 'utf8')).toContain(' 999999');
  });

  it('stops beating while the workers are not running', async () => {
    let alive = true;
    beat({ alive: () => alive, intervalMs: 20 });
    await written();
    alive = false;
    await sleep(200); // a write already under way lands
    const last = await written();
    await sleep(200);
    expect(await fs.readFile(file, 'utf8')).toBe(last);
  });

  it('reports a run of failed writes once', async () => {
    const onError = vi.fn();
    const unwritable = path.join(dir, 'missing-folder', 'heartbeat');
    const alive = vi.fn(() => true);
    const heartbeat = beat({ file: unwritable, alive, intervalMs: 10, onError });
    await vi.waitFor(() => expect(alive.mock.calls.length).toBeGreaterThanOrEqual(5));
    await heartbeat.stop();
    expect(onError).toHaveBeenCalledTimes(1);
  });
});

describe('healthcheck.sh worker', () => {
  let temporal: net.Server;
  let address: string;

  beforeAll(async () => {
    temporal = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => temporal.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(temporal.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => temporal.close(resolve));
  });

  /** Runs the check as the container would, with its temporary folder in `dir`. */
  function check(temporalAddress: string): Promise<{ code: number; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        'sh',
        [script, 'worker'],
        { env: { ...process.env, TMPDIR: dir, TEMPORAL_ADDRESS: temporalAddress }, timeout: 20_000 },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }),
      );
    });
  }

  async function closedPort(): Promise<string> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return `127.0.0.1:${port}`;
  }

  it('is healthy with a fresh heartbeat and Temporal reachable', async () => {
    beat({ alive: () => true });
    await written();
    expect(await check(address)).toEqual({ code: 0, stderr: '' });
  });

  it('is unhealthy without a heartbeat', async () => {
    const result = await check(address);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no heartbeat at .*verbatim-worker\.heartbeat/);
  });

  it('is unhealthy when the last heartbeat is over a minute old', async () => {
    await fs.writeFile(file, 'old\n');
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await fs.utimes(file, twoMinutesAgo, twoMinutesAgo);
    const result = await check(address);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/last heartbeat is 1[12]\d s old/);
  });

  it('is unhealthy with a fresh heartbeat when Temporal cannot be reached', async () => {
    await fs.writeFile(file, `${new Date().toISOString()}\n`);
    const result = await check(await closedPort());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Temporal at 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });
});
