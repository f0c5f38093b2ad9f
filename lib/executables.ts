import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/** A regular file this process may run. */
export async function isExecutable(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) return false;
    await fs.access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` in the PATH's folders, then in `extraDirs`; undefined when none. */
export async function findOnPath(
  name: string,
  extraDirs: readonly string[] = [],
): Promise<string | undefined> {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs].filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}
