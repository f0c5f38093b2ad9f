import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChromiumFacts } from '../../scripts/chromium.js';
import { DEBIAN_CHROMIUM, planChromium } from '../../scripts/chromium.js';

const missing: ChromiumFacts = {
  chromiumPath: undefined,
  present: false,
  root: false,
  passwordlessSudo: false,
  aptGet: true,
};

describe('planChromium (npm pretest, for the browser test)', () => {
  it('uses Chromium where it is', () => {
    expect(planChromium({ ...missing, present: true })).toEqual({ action: 'present', path: DEBIAN_CHROMIUM });
    expect(planChromium({ ...missing, chromiumPath: '/opt/chrome', present: true })).toEqual({
      action: 'present',
      path: '/opt/chrome',
    });
  });

  it('installs Debian chromium with apt-get as root', () => {
    expect(planChromium({ ...missing, root: true })).toEqual({
      action: 'install',
      path: DEBIAN_CHROMIUM,
      commands: [
        ['apt-get', 'update'],
        ['apt-get', 'install', '-y', '--no-install-recommends', 'chromium'],
      ],
    });
  });

  it('installs it through passwordless sudo otherwise', () => {
    const plan = planChromium({ ...missing, passwordlessSudo: true });
    expect(plan.action === 'install' && plan.commands.map((c) => c.slice(0, 3))).toEqual([
      ['sudo', '-n', 'apt-get'],
      ['sudo', '-n', 'apt-get'],
    ]);
  });

  it('names the command to run when it cannot install', () => {
    const plan = planChromium(missing);
    expect(plan.action).toBe('fail');
    expect(plan.action === 'fail' && plan.message).toContain(
      'apt-get update && apt-get install -y --no-install-recommends chromium',
    );
  });

  it('says so when there is no apt-get', () => {
    const plan = planChromium({ ...missing, root: true, aptGet: false });
    expect(plan.action === 'fail' && plan.message).toMatch(/apt-get is not available.*CHROMIUM_PATH/);
  });

  it('does not install when CHROMIUM_PATH names a missing file: the test would still launch that one', () => {
    const plan = planChromium({ ...missing, chromiumPath: '/nowhere/chromium', root: true });
    expect(plan.action === 'fail' && plan.message).toMatch(
      /^CHROMIUM_PATH=\/nowhere\/chromium: no such file/,
    );
  });
});

describe('scripts/postinstall.mjs (npm ci)', () => {
  const script = path.resolve(import.meta.dirname, '../../scripts/postinstall.mjs');
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, [script], { env: { ...process.env, ...env }, encoding: 'utf8' });

  it('skips the Temporal CLI when asked to, saying why', () => {
    const result = run({ VERBATIM_SKIP_TEMPORAL_CLI: '1' });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe(
      'verbatim postinstall: VERBATIM_SKIP_TEMPORAL_CLI=1: not looking for the Temporal CLI.\n',
    );
  });

  it('skips it when a Temporal server is given', () => {
    const result = run({ VERBATIM_SKIP_TEMPORAL_CLI: '', TEMPORAL_ADDRESS: 'temporal:7233' });
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/^verbatim postinstall: TEMPORAL_ADDRESS is set/);
  });
});
