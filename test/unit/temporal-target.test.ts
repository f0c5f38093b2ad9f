import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config.js';
import { TemporalConnectionError, resolveTarget, retryConnect } from '../../lib/temporal.js';
import { describeError } from '../../cli/errors.js';

const TLS_FIXTURES = path.join(import.meta.dirname, '../fixtures/tls');

describe('connecting to a cluster (TLS, API key)', () => {
  it('names every certificate file it cannot read, before connecting', async () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'verbatim.tmprl.cloud:7233',
      TEMPORAL_TLS_CERT: '/nowhere/client.pem',
      TEMPORAL_TLS_KEY: '/nowhere/client.key',
    });
    const error = await resolveTarget(config.temporal, 'verbatim.tmprl.cloud:7233').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/^TEMPORAL_TLS_CERT: cannot read \/nowhere\/client\.pem \(ENOENT\)/),
      expect.stringMatching(/^TEMPORAL_TLS_KEY: cannot read \/nowhere\/client\.key \(ENOENT\)/),
    ]);
  });

  it('reads mutual TLS files, the CA and the server name, and passes an API key', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-tls-'));
    try {
      // A self-signed pair made for these tests only; the certificate doubles as the CA.
      for (const [name, from] of [
        ['client.pem', 'client.pem'],
        ['client.key', 'client.key'],
        ['ca.pem', 'client.pem'],
      ] as const)
        await fs.copyFile(path.join(TLS_FIXTURES, from), path.join(dir, name));
      const pem = (name: string) => fs.readFile(path.join(TLS_FIXTURES, name), 'utf8');
      const config = loadConfig(
        {
          TEMPORAL_ADDRESS: 'temporal.internal:7233',
          TEMPORAL_TLS_CERT: 'client.pem',
          TEMPORAL_TLS_KEY: 'client.key',
          TEMPORAL_TLS_CA: 'ca.pem',
          TEMPORAL_TLS_SERVER_NAME: 'temporal.example',
          TEMPORAL_NAMESPACE: 'surveys',
        },
        dir,
      );
      const target = await resolveTarget(config.temporal, 'temporal.internal:7233');
      expect(target.namespace).toBe('surveys');
      expect(Buffer.from(target.tls?.clientCertPair?.crt ?? []).toString()).toBe(await pem('client.pem'));
      expect(Buffer.from(target.tls?.clientCertPair?.key ?? []).toString()).toBe(await pem('client.key'));
      expect(Buffer.from(target.tls?.serverRootCACertificate ?? []).toString()).toBe(await pem('client.pem'));
      expect(target.tls?.serverNameOverride).toBe('temporal.example');

      const cloud = loadConfig({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'k-123' });
      const withKey = await resolveTarget(cloud.temporal, 'ns.acct.tmprl.cloud:7233');
      expect(withKey.apiKey).toBe('k-123');
      expect(withKey.tls).toEqual({}); // TLS on, with the system's roots
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('names every file that holds no PEM certificate or key, before connecting', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-tls-'));
    try {
      await fs.writeFile(path.join(dir, 'garbage.pem'), 'not a certificate');
      const config = loadConfig(
        {
          TEMPORAL_ADDRESS: 'temporal.internal:7233',
          TEMPORAL_TLS_CERT: 'garbage.pem',
          TEMPORAL_TLS_KEY: path.join(TLS_FIXTURES, 'client.pem'), // a certificate where the key should be
          TEMPORAL_TLS_CA: path.join(TLS_FIXTURES, 'client.pem'),
        },
        dir,
      );
      const error = await resolveTarget(config.temporal, 'temporal.internal:7233').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        expect.stringMatching(/^TEMPORAL_TLS_CERT: .*garbage\.pem is not a certificate in PEM form/),
        expect.stringMatching(/^TEMPORAL_TLS_KEY: .*client\.pem is not a private key in PEM form/),
      ]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('uses no TLS for a plain address', async () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: 'localhost:7233' });
    expect((await resolveTarget(config.temporal, 'localhost:7233')).tls).toBeUndefined();
  });
});

describe('retryConnect', () => {
  const failing = (code: number, message: string) => Object.assign(new Error(message), { code });

  it('retries while the server is unavailable, then connects', async () => {
    let calls = 0;
    const connected = await retryConnect(
      () =>
        ++calls < 3
          ? Promise.reject(failing(14, 'UNAVAILABLE: No connection established'))
          : Promise.resolve('ok'),
      10_000,
      'temporal:7233',
    );
    expect(connected).toBe('ok');
    expect(calls).toBe(3);
  });

  it.each([
    [16, '16 UNAUTHENTICATED: invalid API key'],
    [7, '7 PERMISSION_DENIED: Request unauthorized'],
    [3, '3 INVALID_ARGUMENT: bad namespace'],
  ])('gives up at once on code %i, naming what to check, without a stack trace', async (code, message) => {
    let calls = 0;
    const error = await retryConnect(
      () => {
        calls += 1;
        return Promise.reject(failing(code, message));
      },
      10_000,
      'temporal:7233',
    ).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(error).toBeInstanceOf(TemporalConnectionError);
    expect(describeError(error)).toBe(
      `the Temporal server at temporal:7233 refused the connection (check TEMPORAL_ADDRESS, the TLS settings and TEMPORAL_API_KEY): ${message}`,
    );
  });

  it('gives up after the timeout with the last error', async () => {
    const error = await retryConnect(
      () => Promise.reject(failing(14, 'Failed to connect before the deadline')),
      300,
      'temporal:7233',
    ).catch((e: unknown) => e);
    expect(describeError(error)).toMatch(
      /^cannot reach the Temporal server at temporal:7233 \(TEMPORAL_ADDRESS\) within 0\.3 s: .*Failed to connect before the deadline$/,
    );
  });
});
