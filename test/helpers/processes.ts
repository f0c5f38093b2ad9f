import { llmTaskQueue } from '../../domain/task-queues.js';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the exit code (or signal) when the process ends. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  kill(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

/** `verbatim worker` as a real process, configured only through its environment, as in production. */
export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  return startVerbatim(['worker'], env);
}

/** `verbatim serve --no-worker` (the API alone) on a free port; resolves once it prints its URL. */
export async function startApiProcess(env: Record<string, string>): Promise<WorkerProcess & { url: string }> {
  const api = startVerbatim(['serve', '--no-worker'], { PORT: '0', ...env });
  const url = await waitFor(
    () => /Web page:\s+(http:\/\/\S+?)\/?\s/.exec(api.output())?.[1],
    60_000,
    'the API to listen',
  );
  return { ...api, url };
}

export function startVerbatim(args: string[], env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [path.join(root, 'bin/verbatim.js'), ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  return {
    child,
    output: () => output,
    exited,
    async kill(signal = 'SIGKILL') {
      child.kill(signal);
      return exited;
    },
  };
}

/** Polls `check` until it returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Waits until `count` distinct workers poll the task queue's LLM activities: worker processes bundle
 * their workflows at start, and a job started before they are ready measures their start-up, not the job.
 */
export async function waitForPollers(client: Client, taskQueue: string, count: number): Promise<void> {
  await waitFor(
    async () => {
      const response = await client.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: llmTaskQueue(taskQueue) },
        taskQueueType: 2, // TASK_QUEUE_TYPE_ACTIVITY
      });
      const identities = new Set((response.pollers ?? []).map((p) => p.identity));
      return identities.size >= count ? true : undefined;
    },
    90_000,
    `${count} workers polling ${llmTaskQueue(taskQueue)}`,
  );
}
