import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { parseFault, simulateCommand } from '../../cli/simulate.js';

describe('simulateCommand', () => {
  it('prints the help and returns', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await simulateCommand(['--help']);
      expect(log.mock.calls.flat().join('\n')).toMatch(/--fault <kind:rate>/);
    } finally {
      log.mockRestore();
    }
  });

  it('reads a fault by rate, by count (kind:nx) or on every request', () => {
    expect(parseFault('server_error:0.05')).toEqual({ kind: 'server_error', rate: 0.05 });
    expect(parseFault('rate_limit:3x')).toEqual({ kind: 'rate_limit', count: 3 });
    expect(parseFault('refusal')).toEqual({ kind: 'refusal' });
    expect(() => parseFault('drop:x')).toThrow(/needs a number/);
  });

  it('rejects an unknown fault kind and a bad number', async () => {
    await expect(simulateCommand(['--fault', 'nope:0.1'])).rejects.toThrow(/unknown kind "nope"/);
    await expect(simulateCommand(['--rpm', 'many'])).rejects.toThrow(/--rpm needs a number/);
    await expect(simulateCommand(['--fault', 'drop:2'])).rejects.toThrow(/faults\[0\]\.rate/);
  });

  it('serves with the flags given until SIGTERM, printing how to point verbatim at it', async () => {
    const script = `import { simulateCommand } from './cli/simulate.ts';
await simulateCommand(process.argv.slice(1));`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, '--', '--port', '0', '--rpm', '7'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      let output = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => (output += chunk));
      await vi.waitFor(() => expect(output).toMatch(/Stop with/), { timeout: 10_000, interval: 50 });
      const baseURL = /OPENAI_BASE_URL=(\S+)/.exec(output)?.[1];
      expect(output).toContain(`OPENAI_BASE_URL=${baseURL}  (no key needed)`);

      const response = await fetch(`${baseURL}/models`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit-requests')).toBe('7');

      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
      expect(output).toContain('stopped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
