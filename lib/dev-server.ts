import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';
import type { Logger } from './logger.js';

/**
 * The embedded Temporal server: `temporal server start-dev` with its SQLite file under DATA_DIR, so jobs
 * survive a restart. It runs in its own process group (a Ctrl-C reaches verbatim, which stops the worker
 * first and the server last). Its address is recorded in DATA_DIR/temporal/server.json: a second verbatim
 * process on the same DATA_DIR shares it, and a server left behind by a killed process is adopted rather
 * than started twice on the same database.
 */

export interface DevServer {
  readonly address: string;
  readonly uiUrl: string | undefined;
  /** Whether this process started (or adopted) the server and so stops it. */
  readonly owned: boolean;
  stop(): Promise<void>;
}

interface ServerRecord {
  pid: number;
  owner: number;
  port: number;
  uiPort: number | undefined;
  db: string;
}

export interface StartDevServerOptions {
  readonly cliPath: string;
  readonly dataDir: string;
  readonly namespace: string;
  readonly uiPort?: number;
  readonly headless?: boolean;
  readonly logger: Logger;
}

export async function startDevServer(options: StartDevServerOptions): Promise<DevServer> {
  const dir = path.join(options.dataDir, 'temporal');
  await fs.mkdir(dir, { recursive: true });
  const recordFile = path.join(dir, 'server.json');
  const db = path.join(dir, 'temporal.db');

  const existing = await readRecord(recordFile);
  if (existing && isAlive(existing.pid) && (await isListening(existing.port))) {
    const shared = existing.owner !== process.pid && isAlive(existing.owner);
    if (!shared) await writeRecord(recordFile, { ...existing, owner: process.pid });
    options.logger.info({ port: existing.port, shared }, 'reusing the embedded Temporal server');
    return handle(existing, !shared, recordFile, options.logger);
  }

  // Ports are picked free and then handed to the server: another process can take one in between. A
  // server that exits at once is started again on fresh ports (a taken explicit UI port stays an error).
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const uiPort = options.headless ? undefined : (options.uiPort ?? (await freePort()));
    try {
      const record = await launch(options, dir, db, port, uiPort);
      await writeRecord(recordFile, record);
      options.logger.info({ port, uiPort, db }, 'started the embedded Temporal server');
      return handle(record, true, recordFile, options.logger);
    } catch (error) {
      if (!(error instanceof EarlyExitError) || attempt >= 3 || options.uiPort !== undefined) throw error;
      options.logger.warn({ port, uiPort }, 'the Temporal dev server exited at start: trying other ports');
    }
  }
}

class EarlyExitError extends Error {}

async function launch(
  options: StartDevServerOptions,
  dir: string,
  db: string,
  port: number,
  uiPort: number | undefined,
): Promise<ServerRecord> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--db-filename',
    db,
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    // One shard holds all of a job's batches, and by default its transfer queue (scheduled activity →
    // matching) polls 20 times a second: with several batches in flight each waited ~40 ms to start.
    '--dynamic-config-value',
    'history.transferProcessorMaxPollRPS=1000',
    ...(uiPort === undefined ? ['--headless'] : ['--ui-port', String(uiPort)]),
    ...Object.values(SEARCH_ATTRIBUTES).flatMap((a) => ['--search-attribute', `${a.name}=${a.type}`]),
  ];
  const logFd = openSync(path.join(dir, 'server.log'), 'a');
  const child = spawn(options.cliPath, args, { detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${options.cliPath}`);
  const state: { exited?: number | null } = {};
  child.once('exit', (code) => (state.exited = code));
  const deadline = Date.now() + 60_000;
  // Listening alone could be another process on a port taken in between: our child must be alive too.
  while (!(await isListening(port)) || state.exited !== undefined) {
    if (state.exited !== undefined) {
      throw new EarlyExitError(
        `the Temporal dev server exited with code ${state.exited}; see ${path.join(dir, 'server.log')}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(`the Temporal dev server did not listen on port ${port} within 60 s`);
    await sleep(100);
  }
  // The UI binds its port after the frontend: a taken UI port ends the server just after it listens.
  await sleep(300);
  if (state.exited !== undefined) {
    throw new EarlyExitError(`the Temporal dev server exited with code ${String(state.exited)}`);
  }
  return { pid: child.pid, owner: process.pid, port, uiPort, db };
}

function handle(record: ServerRecord, owned: boolean, recordFile: string, logger: Logger): DevServer {
  return {
    address: `127.0.0.1:${record.port}`,
    uiUrl: record.uiPort === undefined ? undefined : `http://127.0.0.1:${record.uiPort}`,
    owned,
    async stop() {
      if (!owned) return;
      await stopProcess(record.pid);
      await fs.rm(recordFile, { force: true });
      logger.info({ pid: record.pid }, 'stopped the embedded Temporal server');
    },
  };
}

async function stopProcess(pid: number): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function readRecord(file: string): Promise<ServerRecord | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as ServerRecord;
  } catch {
    return undefined;
  }
}

async function writeRecord(file: string, record: ServerRecord): Promise<void> {
  await fs.writeFile(file, JSON.stringify(record));
}
