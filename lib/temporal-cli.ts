import { execFile, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findOnPath, isExecutable } from './executables.js';

/**
 * Finds the Temporal CLI (the embedded dev server) or builds it once from the Go module proxy. v1.5.1 is
 * the newest tag whose go.mod has no replace directive, so the newest `go install` accepts.
 */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

const run = promisify(execFile);

export class TemporalCliNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalCliNotFoundError';
  }
}

/** TEMPORAL_CLI_PATH, then the PATH, then Go's bin folder; undefined when none has it. */
export async function findTemporalCli(explicit?: string): Promise<string | undefined> {
  if (explicit) {
    if (await isExecutable(explicit)) return path.resolve(explicit);
    throw new TemporalCliNotFoundError(`TEMPORAL_CLI_PATH=${explicit}: no executable file there`);
  }
  const onPath = await findOnPath('temporal');
  if (onPath) return onPath;
  for (const dir of await goBinDirs()) {
    const candidate = path.join(dir, 'temporal');
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Finds the CLI, or builds it with `go install` (a few minutes, once per machine). */
export async function ensureTemporalCli(
  options: { explicit?: string; log?: (line: string) => void } = {},
): Promise<string> {
  const found = await findTemporalCli(options.explicit);
  if (found) return found;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const go = await findGo();
  if (!go) {
    throw new TemporalCliNotFoundError(
      'The Temporal CLI was not found (TEMPORAL_CLI_PATH, PATH, Go bin folder) and Go is not installed to build it. ' +
        `Install Go 1.25+ and run: go install ${TEMPORAL_CLI_MODULE}, or set TEMPORAL_ADDRESS to an existing server.`,
    );
  }
  log(`Building the Temporal CLI once: go install ${TEMPORAL_CLI_MODULE} (takes a few minutes) …`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', TEMPORAL_CLI_MODULE], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, CGO_ENABLED: '0' },
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new TemporalCliNotFoundError(`go install ${TEMPORAL_CLI_MODULE} failed (exit ${code})`)),
    );
  });
  const built = await findTemporalCli();
  if (!built)
    throw new TemporalCliNotFoundError(
      `go install succeeded but no temporal binary is in ${(await goBinDirs()).join(' or ')}`,
    );
  log(`Temporal CLI ready: ${built}`);
  return built;
}

async function goBinDirs(): Promise<string[]> {
  const dirs: string[] = [];
  const go = await findGo();
  if (go) {
    try {
      const { stdout } = await run(go, ['env', 'GOBIN', 'GOPATH']);
      const [gobin, gopath] = stdout.split('\n').map((l) => l.trim());
      if (gobin) dirs.push(gobin);
      for (const p of (gopath ?? '').split(path.delimiter).filter(Boolean)) dirs.push(path.join(p, 'bin'));
    } catch {
      // fall through to the default below
    }
  }
  dirs.push(path.join(os.homedir(), 'go', 'bin'));
  return [...new Set(dirs)];
}

/** Go, on the PATH or where its official tarball installs. */
function findGo(): Promise<string | undefined> {
  return findOnPath('go', ['/usr/local/go/bin']);
}
