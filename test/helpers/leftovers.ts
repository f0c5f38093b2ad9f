import fs from 'node:fs/promises';
import path from 'node:path';

export interface RunningProcess {
  readonly pid: number;
  readonly command: string;
}

/**
 * Running processes (zombies aside) whose command line or environment mentions `marker`: a test's own
 * DATA_DIR is in the embedded server's `--db-filename` and in the environment of npm, its shell and node.
 */
export async function processesMentioning(marker: string): Promise<RunningProcess[]> {
  const found: RunningProcess[] = [];
  for (const entry of await fs.readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const read = (file: string) => fs.readFile(path.join('/proc', entry, file), 'utf8').catch(() => '');
    // A zombie has exited: here nothing reaps orphans, and their entries stay behind.
    if (!(await isRunning(pid))) continue;
    const command = (await read('cmdline')).split('\0').join(' ').trim();
    if (command.includes(marker) || (await read('environ')).includes(marker)) found.push({ pid, command });
  }
  return found;
}

/** The embedded server's record (lib/dev-server.ts writes it beside its database). */
export async function serverRecord(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dataDir, 'temporal', 'server.json'), 'utf8')) as {
      pid: number;
      port: number;
    };
  } catch {
    return undefined;
  }
}

/** Alive, and not a zombie. */
export async function isRunning(pid: number): Promise<boolean> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}
