import { llmTaskQueue } from '../domain/task-queues.js';
import path from 'node:path';
import { z } from 'zod';
import { withoutCredentials } from './urls.js';
import { MAX_BATCH_SIZE, parseBatchSize } from '../domain/batching.js';
import { DEFAULT_BATCH_POLL } from '../domain/batch-api.js';
import { InvalidSettingError } from '../domain/errors.js';
import type { JobOptions } from '../domain/job.js';
import { DEFAULT_MAX_CODES, MAX_CODES_LIMIT } from '../domain/prompt.js';
import { DEFAULT_REVIEW_BELOW } from '../domain/quality.js';
import { MAX_COST_LIMIT } from '../domain/cost.js';

/**
 * The environment, parsed once by each process entry (CLI, worker, API): every bad value is reported
 * together, and the result is frozen. Everything else receives its slice of config through a factory.
 */

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];
/**
 * `host[:port]` as Temporal's clients take it (port 7233 when left out): a name (underscores allowed, as in
 * compose service names), IPv4 or bracketed IPv6. The port's range is checked apart.
 */
const ADDRESS = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

/** A yes/no setting as people write it in .env files and forms: true/false, 1/0, yes/no, on/off. */
export const booleanText = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => TRUE_WORDS.includes(v) || FALSE_WORDS.includes(v), 'must be true or false')
  .transform((v) => TRUE_WORDS.includes(v));

/** A number setting whose every refusal says the allowed range, whatever the check that failed. */
const number = (min: number, max: number, whole: boolean) => {
  const range = `must be a ${whole ? 'whole ' : ''}number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}`;
  const n = z.coerce.number({ error: range }).min(min, range).max(max, range);
  return whole ? n.int(range) : n;
};
const int = (min: number, max: number) => number(min, max, true);
/** Seconds as written in the original configuration (`0.1`), returned in milliseconds. */
const seconds = (max: number) => number(0, max, false).transform((s) => Math.round(s * 1000));
const text = z.string().trim().min(1);

/** A bearer token's characters (RFC 6750's token68): what `Authorization: Bearer …` can carry. */
export const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

/** Variables that hold secrets: never echoed. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['OPENAI_API_KEY', 'API_TOKEN', 'TEMPORAL_API_KEY']);
/** Variables that hold an address, which may carry a user name and password: echoed without them. */
const ADDRESS_VARIABLES: ReadonlySet<string> = new Set([
  'OPENAI_BASE_URL',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_UI_URL',
]);
const COST_RANGE = `must be a number of dollars above 0, at most ${MAX_COST_LIMIT.toLocaleString('en-US')}`;

const schema = z.object({
  OPENAI_API_KEY: text.optional(),
  OPENAI_BASE_URL: z.url().optional(),
  OPENAI_MODEL: text.default('gpt-4o-mini'),
  OPENAI_TEMPERATURE: number(0, 2, false).default(0.1),
  OPENAI_TIMEOUT: seconds(3600).default(60_000),
  OPENAI_RPM: int(1, 100_000_000).optional(),
  OPENAI_TPM: int(1, 100_000_000_000).optional(),
  OPENAI_BUDGET_WINDOW: seconds(3600).default(60_000),
  OPENAI_PRICE_INPUT: number(0, 10_000, false).optional(),
  OPENAI_PRICE_OUTPUT: number(0, 10_000, false).optional(),
  MAX_COST: z.coerce
    .number({ error: COST_RANGE })
    .positive(COST_RANGE)
    .max(MAX_COST_LIMIT, COST_RANGE)
    .optional(),
  OPENAI_BATCH_API: booleanText.default(false),
  OPENAI_BATCH_POLL: seconds(86_400).default(DEFAULT_BATCH_POLL.initialMs),
  OPENAI_BATCH_POLL_MAX: seconds(86_400).default(DEFAULT_BATCH_POLL.maxMs),
  BATCH_SIZE: z
    .string()
    .trim()
    .default('100')
    .refine(
      (v) => v === 'auto' || /^\d+$/.test(v),
      `must be "auto" or a whole number from 1 to ${MAX_BATCH_SIZE}`,
    )
    .transform((v, ctx) => {
      try {
        return parseBatchSize(v);
      } catch (error) {
        // The reason alone: the problem line names the variable or the flag itself (`--batch-size must be …`).
        const message = error instanceof InvalidSettingError ? error.reason : (error as Error).message;
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
    }),
  BATCH_TOKEN_TARGET: int(200, 1_000_000).default(3_000),
  ENABLE_PARALLEL_PROCESSING: booleanText.default(true),
  PARALLEL_MAX_WORKERS: int(1, 200).default(5),
  ADAPTIVE_WINDOW: booleanText.default(true),
  PARALLEL_MIN_RESPONSES: int(0, 100_000_000).default(100),
  RATE_LIMIT_DELAY: seconds(60).default(100),
  RETRY_MAX_ATTEMPTS: int(1, 100).default(10),
  RETRY_INITIAL_INTERVAL: seconds(600).default(1_000),
  RETRY_MAX_INTERVAL: seconds(3600).default(60_000),
  HEARTBEAT_TIMEOUT: seconds(600).default(15_000),
  MULTI_CODE: booleanText.default(false),
  MAX_CODES: int(1, MAX_CODES_LIMIT).default(DEFAULT_MAX_CODES),
  REVIEW_BELOW: z.coerce.number().min(0).max(1).default(DEFAULT_REVIEW_BELOW),
  REVIEW_MODEL: z
    .string()
    .trim()
    .regex(/^[\w.:/-]{1,100}$/, 'must be a model name such as gpt-4.1 (letters, digits and . : / - _)')
    .optional(),
  TEMPORAL_ADDRESS: text.optional(),
  TEMPORAL_NAMESPACE: text.default('default'),
  TEMPORAL_TASK_QUEUE: text.default('verbatim'),
  TEMPORAL_API_KEY: text.optional(),
  TEMPORAL_TLS: booleanText.optional(),
  TEMPORAL_TLS_CERT: text.optional(),
  TEMPORAL_TLS_KEY: text.optional(),
  TEMPORAL_TLS_CA: text.optional(),
  TEMPORAL_TLS_SERVER_NAME: text.optional(),
  TEMPORAL_CLI_PATH: text.optional(),
  TEMPORAL_UI_PORT: int(1, 65535).optional(),
  TEMPORAL_UI_URL: z
    .url()
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  DATA_DIR: text.default('./data'),
  HOST: text.default('127.0.0.1'),
  PORT: int(0, 65535).default(3000),
  API_TOKEN: text
    .regex(
      BEARER_TOKEN,
      'may hold only letters, digits and -._~+/ (then = padding): a bearer token cannot carry other characters',
    )
    .optional(),
  MAX_UPLOAD_MB: z.coerce
    .number({ error: 'must be a number of megabytes above 0, at most 2,048' })
    .positive('must be a number of megabytes above 0, at most 2,048')
    .max(2048, 'must be a number of megabytes above 0, at most 2,048')
    .default(50),
  SHUTDOWN_GRACE: seconds(3600).default(30_000),
  SIMULATOR_LATENCY_MS: int(0, 600_000).default(800),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type EnvVariable = keyof z.input<typeof schema>;

/** Every variable the service reads (docker-compose and `.env.example` are checked against it). */
export const ENV_VARIABLES = Object.keys(schema.shape) as EnvVariable[];

export interface TemporalConfig {
  /** Unset: the CLI and `serve` start an embedded dev server under DATA_DIR. */
  readonly address: string | undefined;
  readonly namespace: string;
  readonly taskQueue: string;
  /** The LLM-calling activity's own queue, so that a task-queue rate limit touches only it. */
  readonly llmTaskQueue: string;
  readonly apiKey: string | undefined;
  readonly tls:
    | {
        readonly certPath?: string;
        readonly keyPath?: string;
        readonly caPath?: string;
        readonly serverName?: string;
      }
    | undefined;
  readonly cliPath: string | undefined;
  readonly uiPort: number | undefined;
  /** Where people open the cluster's web UI: job links point there (the embedded server's own wins). */
  readonly uiUrl: string | undefined;
}

export interface OpenAIConfig {
  readonly apiKey: string | undefined;
  readonly baseURL: string | undefined;
  readonly timeoutMs: number;
  readonly rpm: number | undefined;
  readonly tpm: number | undefined;
  /** The budgets' window: a minute, shorter only where a benchmark scales time. */
  readonly budgetWindowMs: number;
}

export interface Config {
  readonly openai: OpenAIConfig;
  /** Defaults of each job's options; CLI flags and API fields override them per job. */
  readonly job: JobOptions;
  readonly temporal: TemporalConfig;
  readonly dataDir: string;
  readonly api: {
    readonly host: string;
    readonly port: number;
    readonly token: string | undefined;
    readonly maxUploadBytes: number;
  };
  /** The simulator that answers when no OPENAI_API_KEY is set (the no-key demo). */
  readonly simulator: { readonly latencyMs: number };
  readonly shutdownGraceMs: number;
  readonly logLevel: z.infer<typeof schema>['LOG_LEVEL'];
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * How a problem names each setting: the variable, unless the value came from elsewhere (the CLI's flags
 * pass `{ BATCH_SIZE: '--batch-size' }`, so that a person reads the flag they typed).
 */
export type SettingNames = Partial<Record<EnvVariable, string>>;

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  names: SettingNames = {},
): Config {
  const name = (key: string) => names[key as EnvVariable] ?? key;
  // A flag reads as a command line does (`--batch-size must be …`), a variable as a .env line (`BATCH_SIZE: …`).
  const about = (key: string) => (names[key as EnvVariable] ? `${name(key)}` : `${key}:`);
  // Empty values count as unset, as in most .env tooling, and surrounding spaces are dropped.
  const cleaned = Object.fromEntries(
    ENV_VARIABLES.map((key) => [key, env[key]?.trim() === '' ? undefined : env[key]?.trim()]),
  );
  const parsed = schema.safeParse(cleaned);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => {
        const key = String(i.path[0]);
        // A secret's value is never echoed, not even a wrong one: errors reach terminals and logs.
        const value = cleaned[key];
        const got = SECRET_VARIABLES.has(key)
          ? 'value not shown'
          : `got ${JSON.stringify(value !== undefined && ADDRESS_VARIABLES.has(key) ? withoutCredentials(value) : value)}`;
        return `${about(key)} ${i.message} (${got})`;
      });
  // Rules across variables, checked on the raw values so that they are reported with the rest.
  const given = (key: EnvVariable) => cleaned[key] !== undefined;
  if (given('TEMPORAL_TLS_CERT') !== given('TEMPORAL_TLS_KEY')) {
    problems.push('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: give both (mutual TLS) or neither');
  }
  const wantsTls =
    given('TEMPORAL_API_KEY') ||
    given('TEMPORAL_TLS_CERT') ||
    given('TEMPORAL_TLS_CA') ||
    given('TEMPORAL_TLS_SERVER_NAME') ||
    TRUE_WORDS.includes(cleaned.TEMPORAL_TLS?.toLowerCase() ?? '');
  const address = cleaned.TEMPORAL_ADDRESS;
  const port = address === undefined ? undefined : ADDRESS.exec(address);
  if (address !== undefined && (!port || Number(port[1] ?? 7233) > 65_535)) {
    problems.push(
      `TEMPORAL_ADDRESS: host:port, without a scheme or a path, e.g. temporal:7233 (got ${JSON.stringify(withoutCredentials(address))})`,
    );
  }
  if (!given('TEMPORAL_ADDRESS') && wantsTls) {
    problems.push(
      'TEMPORAL_ADDRESS: required when TLS or an API key is configured (the embedded server uses neither)',
    );
  }
  if (parsed.success && parsed.data.OPENAI_BATCH_POLL_MAX < parsed.data.OPENAI_BATCH_POLL) {
    problems.push('OPENAI_BATCH_POLL_MAX: must not be below OPENAI_BATCH_POLL');
  }
  if (parsed.success && parsed.data.RETRY_MAX_INTERVAL < parsed.data.RETRY_INITIAL_INTERVAL) {
    problems.push('RETRY_MAX_INTERVAL: must not be below RETRY_INITIAL_INTERVAL');
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;

  const useTls =
    e.TEMPORAL_TLS ??
    Boolean(e.TEMPORAL_API_KEY || e.TEMPORAL_TLS_CERT || e.TEMPORAL_TLS_CA || e.TEMPORAL_TLS_SERVER_NAME);
  const config: Config = {
    openai: {
      apiKey: e.OPENAI_API_KEY,
      baseURL: e.OPENAI_BASE_URL,
      timeoutMs: e.OPENAI_TIMEOUT,
      rpm: e.OPENAI_RPM,
      tpm: e.OPENAI_TPM,
      budgetWindowMs: e.OPENAI_BUDGET_WINDOW,
    },
    job: {
      model: e.OPENAI_MODEL,
      temperature: e.OPENAI_TEMPERATURE,
      batchSize: e.BATCH_SIZE,
      batchTokenTarget: e.BATCH_TOKEN_TARGET,
      parallel: e.ENABLE_PARALLEL_PROCESSING,
      maxWorkers: e.PARALLEL_MAX_WORKERS,
      adaptiveWindow: e.ADAPTIVE_WINDOW,
      minResponsesForParallel: e.PARALLEL_MIN_RESPONSES,
      rateLimitDelayMs: e.RATE_LIMIT_DELAY,
      retry: {
        maximumAttempts: e.RETRY_MAX_ATTEMPTS,
        initialIntervalMs: e.RETRY_INITIAL_INTERVAL,
        maximumIntervalMs: e.RETRY_MAX_INTERVAL,
        heartbeatTimeoutMs: e.HEARTBEAT_TIMEOUT,
      },
      multi: e.MULTI_CODE,
      maxCodes: e.MAX_CODES,
      reviewBelow: e.REVIEW_BELOW,
      ...(e.OPENAI_PRICE_INPUT !== undefined || e.OPENAI_PRICE_OUTPUT !== undefined
        ? {
            prices: {
              ...(e.OPENAI_PRICE_INPUT !== undefined ? { input: e.OPENAI_PRICE_INPUT } : {}),
              ...(e.OPENAI_PRICE_OUTPUT !== undefined ? { output: e.OPENAI_PRICE_OUTPUT } : {}),
            },
          }
        : {}),
      ...(e.MAX_COST !== undefined ? { maxCost: e.MAX_COST } : {}),
      batchApi: e.OPENAI_BATCH_API,
      // A poll of 0 s would spin: at least a tenth of a second.
      batchPoll: {
        initialMs: Math.max(100, e.OPENAI_BATCH_POLL),
        maxMs: Math.max(100, e.OPENAI_BATCH_POLL_MAX),
      },
      ...(e.REVIEW_MODEL ? { reviewModel: e.REVIEW_MODEL } : {}),
    },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      llmTaskQueue: llmTaskQueue(e.TEMPORAL_TASK_QUEUE),
      apiKey: e.TEMPORAL_API_KEY,
      tls: useTls
        ? {
            ...(e.TEMPORAL_TLS_CERT ? { certPath: path.resolve(cwd, e.TEMPORAL_TLS_CERT) } : {}),
            ...(e.TEMPORAL_TLS_KEY ? { keyPath: path.resolve(cwd, e.TEMPORAL_TLS_KEY) } : {}),
            ...(e.TEMPORAL_TLS_CA ? { caPath: path.resolve(cwd, e.TEMPORAL_TLS_CA) } : {}),
            ...(e.TEMPORAL_TLS_SERVER_NAME ? { serverName: e.TEMPORAL_TLS_SERVER_NAME } : {}),
          }
        : undefined,
      cliPath: e.TEMPORAL_CLI_PATH,
      uiPort: e.TEMPORAL_UI_PORT,
      uiUrl: e.TEMPORAL_UI_URL,
    },
    dataDir: path.resolve(cwd, e.DATA_DIR),
    api: {
      host: e.HOST,
      port: e.PORT,
      token: e.API_TOKEN,
      maxUploadBytes: Math.round(e.MAX_UPLOAD_MB * 1024 * 1024),
    },
    simulator: { latencyMs: e.SIMULATOR_LATENCY_MS },
    shutdownGraceMs: e.SHUTDOWN_GRACE,
    logLevel: e.LOG_LEVEL,
  };
  return deepFreeze(config);
}

/** Reads `.env` from the working directory if there is one (variables already set win). */
export function loadDotEnv(cwd = process.cwd()): void {
  try {
    process.loadEnvFile(path.join(cwd, '.env'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
