import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import type { Config, EnvVariable } from '../../lib/config.js';
import { ConfigError, ENV_VARIABLES, loadConfig } from '../../lib/config.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CWD = '/srv/verbatim';
const load = (env: NodeJS.ProcessEnv) => loadConfig(env, CWD);
const DEFAULTS = load({});

/** The problems a ConfigError lists for `env` (fails the test when the env is accepted). */
function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

/** README's configuration table: variable → default as written (backticks kept). */
function readmeDefaults(): Map<string, string> {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'));
  const table = section.slice(0, section.indexOf('\n## ', 5));
  const defaults = new Map<string, string>();
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const [, names = '', fallback = ''] = cells;
    if (!names.startsWith('`')) continue;
    for (const [, name = ''] of names.matchAll(/`([A-Z0-9_]+)`/g)) defaults.set(name, fallback);
  }
  return defaults;
}

/** `.env.example`: every `NAME=value` line, in order. */
function envExample(): Array<[string, string]> {
  const text = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
  return text
    .split(/\r?\n/)
    .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] ?? '', m[2] ?? '']);
}

const ADDRESS = { TEMPORAL_ADDRESS: 'temporal.internal:7233' };

/** For every variable: a non-default value, where it lands in the config, and what it becomes there. */
const EFFECTS: Record<
  EnvVariable,
  { env: NodeJS.ProcessEnv; read: (c: Config) => unknown; expected: unknown }
> = {
  OPENAI_API_KEY: { env: { OPENAI_API_KEY: 'sk-test' }, read: (c) => c.openai.apiKey, expected: 'sk-test' },
  OPENAI_BASE_URL: {
    env: { OPENAI_BASE_URL: 'http://127.0.0.1:8787/v1' },
    read: (c) => c.openai.baseURL,
    expected: 'http://127.0.0.1:8787/v1',
  },
  OPENAI_MODEL: { env: { OPENAI_MODEL: 'gpt-4.1-mini' }, read: (c) => c.job.model, expected: 'gpt-4.1-mini' },
  OPENAI_TEMPERATURE: { env: { OPENAI_TEMPERATURE: '0.7' }, read: (c) => c.job.temperature, expected: 0.7 },
  OPENAI_TIMEOUT: { env: { OPENAI_TIMEOUT: '2.5' }, read: (c) => c.openai.timeoutMs, expected: 2_500 },
  OPENAI_RPM: { env: { OPENAI_RPM: '500' }, read: (c) => c.openai.rpm, expected: 500 },
  OPENAI_TPM: { env: { OPENAI_TPM: '200000' }, read: (c) => c.openai.tpm, expected: 200_000 },
  OPENAI_BUDGET_WINDOW: {
    env: { OPENAI_BUDGET_WINDOW: '6' },
    read: (c) => c.openai.budgetWindowMs,
    expected: 6_000,
  },
  OPENAI_PRICE_INPUT: {
    env: { OPENAI_PRICE_INPUT: '0.5' },
    read: (c) => c.job.prices,
    expected: { input: 0.5 },
  },
  OPENAI_PRICE_OUTPUT: {
    env: { OPENAI_PRICE_OUTPUT: '1.5' },
    read: (c) => c.job.prices,
    expected: { output: 1.5 },
  },
  MAX_COST: { env: { MAX_COST: '2.50' }, read: (c) => c.job.maxCost, expected: 2.5 },
  OPENAI_BATCH_API: { env: { OPENAI_BATCH_API: 'on' }, read: (c) => c.job.batchApi, expected: true },
  OPENAI_BATCH_POLL: {
    env: { OPENAI_BATCH_POLL: '5' },
    read: (c) => c.job.batchPoll?.initialMs,
    expected: 5_000,
  },
  OPENAI_BATCH_POLL_MAX: {
    env: { OPENAI_BATCH_POLL_MAX: '900' },
    read: (c) => c.job.batchPoll?.maxMs,
    expected: 900_000,
  },
  BATCH_SIZE: { env: { BATCH_SIZE: 'auto' }, read: (c) => c.job.batchSize, expected: 'auto' },
  BATCH_TOKEN_TARGET: {
    env: { BATCH_TOKEN_TARGET: '4000' },
    read: (c) => c.job.batchTokenTarget,
    expected: 4_000,
  },
  ENABLE_PARALLEL_PROCESSING: {
    env: { ENABLE_PARALLEL_PROCESSING: 'false' },
    read: (c) => c.job.parallel,
    expected: false,
  },
  PARALLEL_MAX_WORKERS: { env: { PARALLEL_MAX_WORKERS: '8' }, read: (c) => c.job.maxWorkers, expected: 8 },
  ADAPTIVE_WINDOW: { env: { ADAPTIVE_WINDOW: 'false' }, read: (c) => c.job.adaptiveWindow, expected: false },
  PARALLEL_MIN_RESPONSES: {
    env: { PARALLEL_MIN_RESPONSES: '10' },
    read: (c) => c.job.minResponsesForParallel,
    expected: 10,
  },
  RATE_LIMIT_DELAY: { env: { RATE_LIMIT_DELAY: '0.5' }, read: (c) => c.job.rateLimitDelayMs, expected: 500 },
  MULTI_CODE: { env: { MULTI_CODE: 'yes' }, read: (c) => c.job.multi, expected: true },
  MAX_CODES: { env: { MAX_CODES: '3' }, read: (c) => c.job.maxCodes, expected: 3 },
  REVIEW_BELOW: { env: { REVIEW_BELOW: '0.5' }, read: (c) => c.job.reviewBelow, expected: 0.5 },
  REVIEW_MODEL: { env: { REVIEW_MODEL: 'gpt-4.1' }, read: (c) => c.job.reviewModel, expected: 'gpt-4.1' },
  RETRY_MAX_ATTEMPTS: {
    env: { RETRY_MAX_ATTEMPTS: '3' },
    read: (c) => c.job.retry.maximumAttempts,
    expected: 3,
  },
  RETRY_INITIAL_INTERVAL: {
    env: { RETRY_INITIAL_INTERVAL: '2' },
    read: (c) => c.job.retry.initialIntervalMs,
    expected: 2_000,
  },
  RETRY_MAX_INTERVAL: {
    env: { RETRY_MAX_INTERVAL: '120' },
    read: (c) => c.job.retry.maximumIntervalMs,
    expected: 120_000,
  },
  HEARTBEAT_TIMEOUT: {
    env: { HEARTBEAT_TIMEOUT: '30' },
    read: (c) => c.job.retry.heartbeatTimeoutMs,
    expected: 30_000,
  },
  TEMPORAL_ADDRESS: { env: ADDRESS, read: (c) => c.temporal.address, expected: 'temporal.internal:7233' },
  TEMPORAL_NAMESPACE: {
    env: { TEMPORAL_NAMESPACE: 'prod' },
    read: (c) => c.temporal.namespace,
    expected: 'prod',
  },
  TEMPORAL_TASK_QUEUE: {
    env: { TEMPORAL_TASK_QUEUE: 'coding' },
    read: (c) => [c.temporal.taskQueue, c.temporal.llmTaskQueue],
    expected: ['coding', 'coding-llm'],
  },
  TEMPORAL_API_KEY: {
    env: { ...ADDRESS, TEMPORAL_API_KEY: 'tk' },
    read: (c) => c.temporal.apiKey,
    expected: 'tk',
  },
  TEMPORAL_TLS: { env: { ...ADDRESS, TEMPORAL_TLS: 'true' }, read: (c) => c.temporal.tls, expected: {} },
  TEMPORAL_TLS_CERT: {
    env: { ...ADDRESS, TEMPORAL_TLS_CERT: 'certs/client.pem', TEMPORAL_TLS_KEY: '/etc/key.pem' },
    read: (c) => c.temporal.tls?.certPath,
    expected: '/srv/verbatim/certs/client.pem',
  },
  TEMPORAL_TLS_KEY: {
    env: { ...ADDRESS, TEMPORAL_TLS_CERT: 'certs/client.pem', TEMPORAL_TLS_KEY: '/etc/key.pem' },
    read: (c) => c.temporal.tls?.keyPath,
    expected: '/etc/key.pem',
  },
  TEMPORAL_TLS_CA: {
    env: { ...ADDRESS, TEMPORAL_TLS_CA: 'ca.pem' },
    read: (c) => c.temporal.tls,
    expected: { caPath: '/srv/verbatim/ca.pem' },
  },
  TEMPORAL_TLS_SERVER_NAME: {
    env: { ...ADDRESS, TEMPORAL_TLS: 'on', TEMPORAL_TLS_SERVER_NAME: 'temporal.example' },
    read: (c) => c.temporal.tls,
    expected: { serverName: 'temporal.example' },
  },
  TEMPORAL_CLI_PATH: {
    env: { TEMPORAL_CLI_PATH: '/opt/temporal' },
    read: (c) => c.temporal.cliPath,
    expected: '/opt/temporal',
  },
  TEMPORAL_UI_PORT: { env: { TEMPORAL_UI_PORT: '8233' }, read: (c) => c.temporal.uiPort, expected: 8_233 },
  TEMPORAL_UI_URL: {
    env: { TEMPORAL_UI_URL: 'https://temporal.example.com/' },
    read: (c) => c.temporal.uiUrl,
    expected: 'https://temporal.example.com',
  },
  DATA_DIR: { env: { DATA_DIR: '/var/lib/verbatim' }, read: (c) => c.dataDir, expected: '/var/lib/verbatim' },
  HOST: { env: { HOST: '0.0.0.0' }, read: (c) => c.api.host, expected: '0.0.0.0' },
  PORT: { env: { PORT: '8080' }, read: (c) => c.api.port, expected: 8_080 },
  API_TOKEN: { env: { API_TOKEN: 'secret' }, read: (c) => c.api.token, expected: 'secret' },
  MAX_UPLOAD_MB: { env: { MAX_UPLOAD_MB: '1.5' }, read: (c) => c.api.maxUploadBytes, expected: 1_572_864 },
  SHUTDOWN_GRACE: { env: { SHUTDOWN_GRACE: '5' }, read: (c) => c.shutdownGraceMs, expected: 5_000 },
  SIMULATOR_LATENCY_MS: {
    env: { SIMULATOR_LATENCY_MS: '0' },
    read: (c) => c.simulator.latencyMs,
    expected: 0,
  },
  LOG_LEVEL: { env: { LOG_LEVEL: 'debug' }, read: (c) => c.logLevel, expected: 'debug' },
};

describe('loadConfig defaults', () => {
  it('has the defaults of the original tool, but 100 answers a request (the cost bench)', () => {
    expect(DEFAULTS.job).toEqual({
      model: 'gpt-4o-mini',
      temperature: 0.1,
      batchSize: 100,
      batchTokenTarget: 3_000,
      parallel: true,
      maxWorkers: 5,
      adaptiveWindow: true,
      minResponsesForParallel: 100,
      rateLimitDelayMs: 100,
      retry: {
        maximumAttempts: 10,
        initialIntervalMs: 1_000,
        maximumIntervalMs: 60_000,
        heartbeatTimeoutMs: 15_000,
      },
      multi: false,
      maxCodes: 5,
      reviewBelow: 0.7,
      batchApi: false,
      batchPoll: { initialMs: 30_000, maxMs: 600_000 },
    });
    expect(DEFAULTS.openai).toEqual({
      apiKey: undefined,
      baseURL: undefined,
      timeoutMs: 60_000,
      rpm: undefined,
      tpm: undefined,
      budgetWindowMs: 60_000,
    });
    expect(DEFAULTS.temporal).toMatchObject({
      address: undefined,
      namespace: 'default',
      taskQueue: 'verbatim',
      llmTaskQueue: 'verbatim-llm',
      tls: undefined,
    });
    expect(DEFAULTS.dataDir).toBe('/srv/verbatim/data');
    expect(DEFAULTS.api).toEqual({
      host: '127.0.0.1',
      port: 3_000,
      token: undefined,
      maxUploadBytes: 50 * 1024 * 1024,
    });
    expect(DEFAULTS.shutdownGraceMs).toBe(30_000);
    expect(DEFAULTS.logLevel).toBe('info');
  });

  it('returns a deeply frozen object', () => {
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
    expect(Object.isFrozen(DEFAULTS.job)).toBe(true);
    expect(Object.isFrozen(DEFAULTS.job.retry)).toBe(true);
    expect(Object.isFrozen(DEFAULTS.temporal)).toBe(true);
    expect(() => {
      (DEFAULTS.job as { model: string }).model = 'changed';
    }).toThrow(TypeError);
    const withTls = load({ ...ADDRESS, TEMPORAL_TLS_CA: 'ca.pem' });
    expect(Object.isFrozen(withTls.temporal.tls)).toBe(true);
  });

  it('does not read process.env when given an env', () => {
    const config = loadConfig({}, CWD);
    expect(config).toEqual(DEFAULTS);
  });
});

describe('README configuration table', () => {
  const documented = readmeDefaults();

  it('lists every variable the service reads, and no other', () => {
    expect([...documented.keys()].sort()).toEqual([...ENV_VARIABLES].sort());
  });

  it.each(ENV_VARIABLES)('%s: the documented default is the one the code uses', (variable) => {
    const written = documented.get(variable);
    expect(written, `${variable} is missing from the README table`).toBeDefined();
    const literal = /^`([^`]*)`/.exec(written ?? '')?.[1];
    if (literal !== undefined) {
      // Setting the documented default explicitly must change nothing.
      expect(load({ [variable]: literal })).toEqual(DEFAULTS);
    } else {
      // "unset", "OpenAI", "free port": the config leaves the setting empty.
      expect(EFFECTS[variable].read(DEFAULTS), `${variable} is documented as ${written}`).toBeUndefined();
    }
  });
});

describe('.env.example', () => {
  const entries = envExample();

  it('lists exactly ENV_VARIABLES, each once', () => {
    const names = entries.map(([name]) => name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual([...ENV_VARIABLES].sort());
  });

  it('copied unchanged to .env gives the defaults', () => {
    expect(load(Object.fromEntries(entries))).toEqual(DEFAULTS);
  });

  it('shows the README default for every variable it fills in', () => {
    const documented = readmeDefaults();
    for (const [name, value] of entries) {
      if (value === '') continue;
      expect(documented.get(name), name).toMatch(
        new RegExp(`^\`${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\``),
      );
    }
  });
});

describe('loadConfig values', () => {
  it.each(ENV_VARIABLES)('%s is read into the config', (variable) => {
    const { env, read, expected } = EFFECTS[variable];
    expect(read(load(env))).toEqual(expected);
  });

  it.each([
    ['true', true],
    ['false', false],
    ['1', true],
    ['0', false],
    ['yes', true],
    ['no', false],
    ['on', true],
    ['off', false],
    ['TRUE', true],
    [' Off ', false],
  ])('boolean %j → %s', (text, expected) => {
    expect(load({ ENABLE_PARALLEL_PROCESSING: text }).job.parallel).toBe(expected);
  });

  it.each(['maybe', '2', 'enabled', 'y'])('rejects boolean %j', (text) => {
    expect(problems({ ENABLE_PARALLEL_PROCESSING: text }).join('\n')).toMatch(
      /^ENABLE_PARALLEL_PROCESSING:/m,
    );
  });

  it('reads seconds as milliseconds', () => {
    expect(load({ RATE_LIMIT_DELAY: '0.1' }).job.rateLimitDelayMs).toBe(100);
    expect(load({ RATE_LIMIT_DELAY: '0' }).job.rateLimitDelayMs).toBe(0);
    expect(load({ RETRY_INITIAL_INTERVAL: '0.25' }).job.retry.initialIntervalMs).toBe(250);
  });

  it('reads BATCH_SIZE as a number or auto', () => {
    expect(load({ BATCH_SIZE: '25' }).job.batchSize).toBe(25);
    expect(load({ BATCH_SIZE: ' auto ' }).job.batchSize).toBe('auto');
    expect(problems({ BATCH_SIZE: '0' }).join('\n')).toMatch(/^BATCH_SIZE:/m);
    expect(problems({ BATCH_SIZE: '201' }).join('\n')).toMatch(/^BATCH_SIZE:/m);
    expect(problems({ BATCH_SIZE: 'ten' }).join('\n')).toMatch(/^BATCH_SIZE:/m);
  });

  it('treats empty and blank values as unset, and trims the others', () => {
    expect(load({ PORT: '', OPENAI_API_KEY: '   ', OPENAI_MODEL: '', BATCH_SIZE: ' ' })).toEqual(DEFAULTS);
    expect(load({ OPENAI_MODEL: '  gpt-4.1  ' }).job.model).toBe('gpt-4.1');
  });

  it('ignores variables it does not know', () => {
    expect(load({ SOMETHING_ELSE: 'x', PATH: '/bin' })).toEqual(DEFAULTS);
  });
});

describe('loadConfig errors', () => {
  it("says each number setting's allowed range, whatever the check that failed", () => {
    expect(problems({ OPENAI_TEMPERATURE: '5' })).toEqual([
      'OPENAI_TEMPERATURE: must be a number from 0 to 2 (got "5")',
    ]);
    expect(problems({ PARALLEL_MAX_WORKERS: 'many' })).toEqual([
      'PARALLEL_MAX_WORKERS: must be a whole number from 1 to 200 (got "many")',
    ]);
    expect(problems({ PARALLEL_MAX_WORKERS: '2.5' })).toEqual([
      'PARALLEL_MAX_WORKERS: must be a whole number from 1 to 200 (got "2.5")',
    ]);
  });

  it("names a setting as its source did: the CLI's flag instead of the variable behind it", () => {
    let error: unknown;
    try {
      loadConfig({ BATCH_SIZE: 'abc', OPENAI_TEMPERATURE: '3', PORT: 'x' }, CWD, {
        BATCH_SIZE: '--batch-size',
        OPENAI_TEMPERATURE: '--temperature',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const list = (error as ConfigError).problems;
    expect(list).toContain('--temperature must be a number from 0 to 2 (got "3")');
    expect(list.find((p) => p.startsWith('--batch-size must be'))).toMatch(/auto/);
    expect(list.some((p) => p.startsWith('PORT: '))).toBe(true);
    expect(list.join('\n')).not.toMatch(/BATCH_SIZE|OPENAI_TEMPERATURE/);
  });

  it('refuses an API_TOKEN a bearer header cannot carry, with the other bad values, never showing it', () => {
    const list = problems({ API_TOKEN: 'my secret!', PORT: 'abc' });
    expect([...list].sort()).toEqual([
      expect.stringMatching(/^API_TOKEN: may hold only letters, digits and .*\(value not shown\)$/),
      expect.stringMatching(/^PORT:/),
    ]);
    expect(list.join('\n')).not.toContain('my secret');
    expect(load({ API_TOKEN: 'abc-DEF_1.2~3+4/5==' }).api.token).toBe('abc-DEF_1.2~3+4/5==');
  });

  it('reports several bad values together, naming each variable and its value', () => {
    const list = problems({
      PORT: 'abc',
      OPENAI_TEMPERATURE: '5',
      BATCH_SIZE: '0',
      LOG_LEVEL: 'loud',
      OPENAI_BASE_URL: 'not a url',
      PARALLEL_MAX_WORKERS: '2.5',
    });
    for (const variable of [
      'PORT',
      'OPENAI_TEMPERATURE',
      'BATCH_SIZE',
      'LOG_LEVEL',
      'OPENAI_BASE_URL',
      'PARALLEL_MAX_WORKERS',
    ]) {
      expect(
        list.some((p) => p.startsWith(`${variable}:`)),
        `${variable} in ${JSON.stringify(list)}`,
      ).toBe(true);
    }
    expect(list.join('\n')).toContain('"abc"');
    let message = '';
    try {
      load({ PORT: 'abc', LOG_LEVEL: 'loud' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/PORT/);
    expect(message).toMatch(/LOG_LEVEL/);
  });

  it('rejects MULTI_CODE that is not a yes/no and MAX_CODES outside 1–100, with the others', () => {
    const list = problems({ MULTI_CODE: 'several', MAX_CODES: '0', PORT: 'abc' }).join('\n');
    expect(list).toMatch(/^MULTI_CODE: must be true or false \(got "several"\)/m);
    expect(list).toMatch(/^MAX_CODES: .*\(got "0"\)/m);
    expect(list).toMatch(/^PORT:/m);
    expect(problems({ MAX_CODES: '101' }).join('\n')).toMatch(/^MAX_CODES:/m);
    expect(problems({ MAX_CODES: '2.5' }).join('\n')).toMatch(/^MAX_CODES: must be a whole number/m);
  });

  it('rejects a client certificate without its key, and a key without its certificate', () => {
    expect(problems({ ...ADDRESS, TEMPORAL_TLS_CERT: 'c.pem' }).join('\n')).toMatch(/TEMPORAL_TLS_KEY/);
    expect(problems({ ...ADDRESS, TEMPORAL_TLS_KEY: 'k.pem' }).join('\n')).toMatch(/TEMPORAL_TLS_CERT/);
  });

  it.each([
    { TEMPORAL_API_KEY: 'tk' },
    { TEMPORAL_TLS: 'true' },
    { TEMPORAL_TLS_CERT: 'c.pem', TEMPORAL_TLS_KEY: 'k.pem' },
  ])('rejects TLS or an API key without TEMPORAL_ADDRESS: %j', (env) => {
    expect(problems(env).some((p) => p.startsWith('TEMPORAL_ADDRESS:'))).toBe(true);
  });

  // TEMPORAL_TLS_CA alone turns TLS on, which the embedded plain-text dev server cannot speak.
  it('rejects a CA certificate without TEMPORAL_ADDRESS (it turns TLS on)', () => {
    expect(problems({ TEMPORAL_TLS_CA: 'ca.pem' }).some((p) => p.startsWith('TEMPORAL_ADDRESS:'))).toBe(true);
  });

  it('turns TLS on for an API key or a CA certificate', () => {
    expect(load({ ...ADDRESS, TEMPORAL_API_KEY: 'tk' }).temporal.tls).toEqual({});
    expect(load({ ...ADDRESS, TEMPORAL_TLS_CA: 'ca.pem' }).temporal.tls).toEqual({
      caPath: '/srv/verbatim/ca.pem',
    });
    expect(load(ADDRESS).temporal.tls).toBeUndefined();
  });

  it('accepts TEMPORAL_TLS=false without an address, and lets it turn the implied TLS off', () => {
    expect(load({ TEMPORAL_TLS: 'false' }).temporal.tls).toBeUndefined();
    expect(
      load({ ...ADDRESS, TEMPORAL_TLS_CA: 'ca.pem', TEMPORAL_TLS: 'false' }).temporal.tls,
    ).toBeUndefined();
  });

  it('lets TEMPORAL_TLS=false turn off the TLS an API key implies (an encrypting proxy; warned at start)', () => {
    expect(load({ ...ADDRESS, TEMPORAL_API_KEY: 'tk', TEMPORAL_TLS: 'false' }).temporal.tls).toBeUndefined();
  });

  it('turns TLS on for a server name alone', () => {
    expect(load({ ...ADDRESS, TEMPORAL_TLS_SERVER_NAME: 'temporal.example' }).temporal.tls).toEqual({
      serverName: 'temporal.example',
    });
  });

  it.each([
    'http://temporal:7233',
    'temporal:7233/',
    'temporal:port',
    'temporal :7233',
    'grpc://x',
    'temporal:70000',
  ])('rejects TEMPORAL_ADDRESS %j, saying the form it takes', (address) => {
    expect(problems({ TEMPORAL_ADDRESS: address })).toEqual([
      expect.stringMatching(/^TEMPORAL_ADDRESS: host:port, without a scheme or a path/),
    ]);
  });

  it.each([
    'temporal',
    'temporal:7233',
    'temporal_server:7233',
    'temporal.internal.:7233',
    '10.0.0.5:7233',
    '[::1]:7233',
    'ns.acct.tmprl.cloud:7233',
  ])('accepts TEMPORAL_ADDRESS %j', (address) => {
    expect(load({ TEMPORAL_ADDRESS: address }).temporal.address).toBe(address);
  });

  it('rejects OPENAI_BATCH_POLL_MAX below OPENAI_BATCH_POLL', () => {
    expect(problems({ OPENAI_BATCH_POLL: '60', OPENAI_BATCH_POLL_MAX: '10' })).toEqual([
      'OPENAI_BATCH_POLL_MAX: must not be below OPENAI_BATCH_POLL',
    ]);
  });

  it('rejects RETRY_MAX_INTERVAL below RETRY_INITIAL_INTERVAL', () => {
    expect(problems({ RETRY_INITIAL_INTERVAL: '30', RETRY_MAX_INTERVAL: '10' })).toEqual([
      'RETRY_MAX_INTERVAL: must not be below RETRY_INITIAL_INTERVAL',
    ]);
  });

  // "Every bad value is reported together": a bad single value must not hide a cross-variable problem.
  it('reports a bad value and a cross-variable problem together', () => {
    const list = problems({ PORT: 'abc', ...ADDRESS, TEMPORAL_TLS_CERT: 'c.pem' });
    expect(list.some((p) => p.startsWith('PORT:'))).toBe(true);
    expect(list.some((p) => p.includes('TEMPORAL_TLS_KEY'))).toBe(true);
  });
});
