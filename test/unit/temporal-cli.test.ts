import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TemporalCliNotFoundError, findTemporalCli } from '../../lib/temporal-cli.js';

// Fake executables in temp folders: PATH, the folders a fake `go env GOBIN GOPATH` names, and ~/go/bin.
let root: string;
const saved = { PATH: process.env.PATH, HOME: process.env.HOME };

async function executable(file: string, body = 'exit 0'): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/** A PATH of one folder holding `go`, which reports GOBIN and GOPATH as given. */
async function goReporting(gobin: string, gopath: string): Promise<string> {
  const dir = path.join(root, 'path');
  await executable(path.join(dir, 'go'), `printf '%s\\n%s\\n' '${gobin}' '${gopath}'`);
  return dir;
}

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-cli-lookup-'));
  process.env.HOME = path.join(root, 'home');
});
afterEach(async () => {
  process.env.PATH = saved.PATH;
  process.env.HOME = saved.HOME;
  await fs.rm(root, { recursive: true, force: true });
});

describe('findTemporalCli: TEMPORAL_CLI_PATH, then PATH, then Go bin folders', () => {
  it('takes TEMPORAL_CLI_PATH first, and names it when nothing runs there', async () => {
    const explicit = await executable(path.join(root, 'chosen', 'temporal'));
    process.env.PATH = await goReporting('', '');
    await executable(path.join(root, 'path', 'temporal'));
    expect(await findTemporalCli(explicit)).toBe(explicit);
    await expect(findTemporalCli(path.join(root, 'nowhere', 'temporal'))).rejects.toThrow(
      TemporalCliNotFoundError,
    );
    await expect(findTemporalCli(path.join(root, 'nowhere', 'temporal'))).rejects.toThrow(
      /^TEMPORAL_CLI_PATH=.*nowhere\/temporal: no executable file there/,
    );
  });

  it('takes the PATH before Go bin folders', async () => {
    const gobin = path.join(root, 'gobin');
    process.env.PATH = await goReporting(gobin, '');
    const onPath = await executable(path.join(root, 'path', 'temporal'));
    await executable(path.join(gobin, 'temporal'));
    expect(await findTemporalCli()).toBe(onPath);
  });

  it('then GOBIN, then each GOPATH bin, then ~/go/bin', async () => {
    const gobin = path.join(root, 'gobin');
    const gopath = path.join(root, 'gopath');
    process.env.PATH = await goReporting(gobin, gopath);
    const home = await executable(path.join(root, 'home', 'go', 'bin', 'temporal'));
    expect(await findTemporalCli()).toBe(home);
    const inGopath = await executable(path.join(gopath, 'bin', 'temporal'));
    expect(await findTemporalCli()).toBe(inGopath);
    const inGobin = await executable(path.join(gobin, 'temporal'));
    expect(await findTemporalCli()).toBe(inGobin);
  });

  it('finds none when none is there, and skips files that are not executable', async () => {
    process.env.PATH = await goReporting('', '');
    await fs.mkdir(path.join(root, 'home', 'go', 'bin'), { recursive: true });
    await fs.writeFile(path.join(root, 'home', 'go', 'bin', 'temporal'), 'not executable', { mode: 0o644 });
    expect(await findTemporalCli()).toBeUndefined();
  });
});
