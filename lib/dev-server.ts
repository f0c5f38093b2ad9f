import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';
import type { Logger } from './logger.js';
import { TemporalConnectionError } from './temporal.js';

/**
 * The embedded Temporal server: `temporal server start-dev` with its SQLite file under DATA_DIR, so jobs
 * survive a restart. It runs in its own process group (a Ctrl-C reaches verbatim, which stops the worker
 * first and the server last). Its address is recorded in DATA_DIR/temporal/server.json: a second verbatim
 * process on the same DATA_DIR shares it, and a server left behind by a killed process is adopted rather
 * than started twice on the same database.
 *
 * The process that owns the server supervises it: a server that dies while verbatim runs (killed, crashed)
 * is started again on the same database and the same port, so that the worker and the client, which retry,
 * reconnect to it and running jobs carry on. A server verbatim stops itself is not restarted; one left behind
 * by a verbatim process killed with SIGKILL is, by design, adopted by the next run.
 */

export interface DevServer {
  readonly address: string;
  /** The web UI; its port changes only when a restart found the old one taken. */
  readonly uiUrl: string | undefined;
  /** Whether this process started (or adopted) the server and so supervises and stops it. */
  readonly owned: boolean;
  /** True from the moment the server is found dead until it listens again. */
  readonly restarting: boolean;
  /** Rejects with a DevServerLostError when the server died and could not be started again. */
  readonly lost: Promise<never>;
  stop(): Promise<void>;
}

/** The embedded server died and could not be started again: said without a stack trace. */
export class DevServerLostError extends TemporalConnectionError {
  constructor(message: string) {
    super(message);
    this.name = 'DevServerLostError';
  }
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
  /** One plain line for the person at the terminal when the server died and was restarted. */
  readonly notify?: (line: string) => void;
}

export async function startDevServer(options: StartDevServerOptions): Promise<DevServer> {
  const dir = path.join(options.dataDir, 'temporal');
  await fs.mkdir(dir, { recursive: true });
  const recordFile = path.join(dir, 'server.json');
  const db = path.join(dir, 'temporal.db');

  const place = { options, dir, db, recordFile };

  const existing = await readRecord(recordFile);
  if (existing && isRunning(existing.pid) && (await isListening(existing.port))) {
    const shared = existing.owner !== process.pid && isRunning(existing.owner);
    if (!shared) await writeRecord(recordFile, { ...existing, owner: process.pid });
    options.logger.info({ port: existing.port, shared }, 'reusing the embedded Temporal server');
    return new SupervisedServer(place, shared ? existing : { ...existing, owner: process.pid }, !shared);
  }

  // Ports are picked free and then handed to the server: another process can take one in between. A
  // server that exits at once is started again on fresh ports (a taken explicit UI port stays an error).
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const uiPort = options.headless ? undefined : (options.uiPort ?? (await freePort()));
    try {
      const { record, child } = await launch(options, dir, db, port, uiPort);
      await writeRecord(recordFile, record);
      options.logger.info({ port, uiPort, db }, 'started the embedded Temporal server');
      return new SupervisedServer(place, record, true, child);
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
): Promise<{ record: ServerRecord; child: ChildProcess }> {
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
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the Temporal dev server did not listen on port ${port} within 60 s`);
    }
    await sleep(100);
  }
  // The UI binds its port after the frontend: a taken UI port ends the server just after it listens.
  await sleep(300);
  if (state.exited !== undefined) {
    throw new EarlyExitError(`the Temporal dev server exited with code ${String(state.exited)}`);
  }
  return { record: { pid: child.pid, owner: process.pid, port, uiPort, db }, child };
}

interface Place {
  readonly options: StartDevServerOptions;
  readonly dir: string;
  readonly db: string;
  readonly recordFile: string;
}

/** A server that dies this often is not restarted again: something is wrong with it (its database, the disk). */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

class SupervisedServer implements DevServer {
  readonly address: string;
  readonly lost: Promise<never>;
  restarting = false;
  private record: ServerRecord;
  private stopping = false;
  private restart: Promise<void> | undefined;
  private readonly restarts: number[] = [];
  private poll: NodeJS.Timeout | undefined;
  private reportLost: (error: Error) => void = () => {};

  constructor(
    private readonly place: Place,
    record: ServerRecord,
    readonly owned: boolean,
    child?: ChildProcess,
  ) {
    this.record = record;
    this.address = `127.0.0.1:${record.port}`;
    this.lost = new Promise<never>((_, reject) => (this.reportLost = reject));
    // Whoever cares races it (the runtime does); nobody listening must not crash the process.
    this.lost.catch(() => {});
    // A server shared with the verbatim process that owns it is that process's to restart.
    if (owned) this.watch(child);
  }

  get uiUrl(): string | undefined {
    return this.record.uiPort === undefined ? undefined : `http://127.0.0.1:${this.record.uiPort}`;
  }

  async stop(): Promise<void> {
    if (!this.owned) return;
    // Set first: the exit this causes is not a death to recover from.
    this.stopping = true;
    clearInterval(this.poll);
    await this.restart;
    await stopProcess(this.record.pid);
    await fs.rm(this.place.recordFile, { force: true });
    this.place.options.logger.info({ pid: this.record.pid }, 'stopped the embedded Temporal server');
  }

  private watch(child: ChildProcess | undefined): void {
    const { pid } = this.record;
    if (child) {
      child.once('exit', (code, signal) =>
        this.died(pid, signal ? `killed by ${signal}` : `exit code ${code}`),
      );
      return;
    }
    // Adopted from a killed verbatim process, so not our child: no exit event, look every second instead.
    this.poll = setInterval(() => {
      if (isRunning(pid)) return;
      clearInterval(this.poll);
      this.died(pid, 'it exited');
    }, 1_000);
    this.poll.unref();
  }

  private died(pid: number, how: string): void {
    if (this.stopping || pid !== this.record.pid) return;
    this.restarting = true;
    this.restart = this.startAgain(how).then(
      () => {
        this.restarting = false;
      },
      (error: unknown) => {
        this.restarting = false;
        this.reportLost(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  private async startAgain(how: string): Promise<void> {
    const { options, dir, db, recordFile } = this.place;
    const logFile = path.join(dir, 'server.log');
    const began = Date.now();
    options.logger.info({ pid: this.record.pid, how }, 'the embedded Temporal server died: restarting it');
    const recent = this.restarts.filter((t) => began - t < RESTART_WINDOW_MS);
    if (recent.length >= MAX_RESTARTS) {
      throw new DevServerLostError(
        `the embedded Temporal server died ${recent.length + 1} times within a minute (last: ${how}); ` +
          `see ${logFile}. Run the command again to resume.`,
      );
    }
    this.restarts.splice(0, this.restarts.length, ...recent, began);

    // Same port: the worker's and the client's connections point at it and reconnect on their own. Only the
    // UI's port may change, when something took it meanwhile.
    const { port } = this.record;
    let uiPort = this.record.uiPort;
    for (let attempt = 1; ; attempt += 1) {
      try {
        // Else launch() would take whoever holds the port for our server, listening.
        if (await isListening(port)) throw new EarlyExitError(`port ${port} is taken by another process`);
        const { record, child } = await launch(options, dir, db, port, uiPort);
        this.record = record;
        await writeRecord(recordFile, record);
        if (this.stopping) return; // stop() is waiting for this restart, and stops the new server
        this.watch(child);
        const seconds = ((Date.now() - began) / 1000).toFixed(1);
        options.logger.info(
          { pid: record.pid, port, uiPort, downMs: Date.now() - began },
          'restarted the embedded Temporal server',
        );
        const line =
          `The embedded Temporal server stopped unexpectedly (${how}); restarted it on the same database ` +
          `at ${this.address} in ${seconds} s. Work carries on.`;
        if (options.notify) options.notify(line);
        else options.logger.warn(line);
        return;
      } catch (error) {
        if (this.stopping) return;
        if (!(error instanceof EarlyExitError) || attempt >= 4) {
          throw new DevServerLostError(
            `the embedded Temporal server died (${how}) and could not be started again on port ${port}: ` +
              `${error instanceof Error ? error.message : String(error)}. Run the command again to resume.`,
          );
        }
        if (attempt >= 2 && uiPort !== undefined && options.uiPort === undefined) uiPort = await freePort();
        await sleep(500 * attempt);
      }
    }
  }
}

async function stopProcess(pid: number): Promise<void> {
  if (!isRunning(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (isRunning(pid) && Date.now() < deadline) await sleep(50);
  if (isRunning(pid)) process.kill(pid, 'SIGKILL');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Alive and not a zombie: a dead server whose parent (a killed verbatim process) is gone waits for an init
 * that may never reap it, and still answers kill(pid, 0).
 */
function isRunning(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(pid, 0) is all there is
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
