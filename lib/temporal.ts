import { X509Certificate, createPrivateKey } from 'node:crypto';
import fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { ConnectionOptions } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';
import type { TemporalConfig } from './config.js';
import { ConfigError } from './config.js';
import type { Logger } from './logger.js';

/** Connection settings shared by the client (API, CLI) and the worker, validated with clear errors. */
export interface TemporalTarget {
  readonly address: string;
  readonly namespace: string;
  readonly tls: TLSConfig | undefined;
  readonly apiKey: string | undefined;
}

export async function resolveTarget(config: TemporalConfig, address: string): Promise<TemporalTarget> {
  let tls: TLSConfig | undefined;
  if (config.tls) {
    const problems: string[] = [];
    const read = async (variable: string, file: string | undefined) => {
      if (!file) return undefined;
      try {
        return await fs.readFile(file);
      } catch (error) {
        problems.push(
          `${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        );
        return undefined;
      }
    };
    const [crt, key, ca] = await Promise.all([
      read('TEMPORAL_TLS_CERT', config.tls.certPath),
      read('TEMPORAL_TLS_KEY', config.tls.keyPath),
      read('TEMPORAL_TLS_CA', config.tls.caPath),
    ]);
    // A file that is there but holds no certificate or key fails here, named, not as a TLS error later.
    const parse = (variable: string, file: string | undefined, pem: Buffer | undefined, what: string) => {
      if (!pem) return;
      try {
        if (what === 'a private key') createPrivateKey(pem);
        else new X509Certificate(pem);
      } catch (error) {
        problems.push(`${variable}: ${file} is not ${what} in PEM form (${(error as Error).message})`);
      }
    };
    parse('TEMPORAL_TLS_CERT', config.tls.certPath, crt, 'a certificate');
    parse('TEMPORAL_TLS_KEY', config.tls.keyPath, key, 'a private key');
    parse('TEMPORAL_TLS_CA', config.tls.caPath, ca, 'a certificate');
    if (problems.length > 0) throw new ConfigError(problems);
    tls = {
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(config.tls.serverName ? { serverNameOverride: config.tls.serverName } : {}),
    };
  }
  return { address, namespace: config.namespace, tls, apiKey: config.apiKey };
}

function connectionOptions(target: TemporalTarget): ConnectionOptions & NativeConnectionOptions {
  return {
    address: target.address,
    ...(target.tls ? { tls: target.tls } : {}),
    ...(target.apiKey ? { apiKey: target.apiKey } : {}),
  };
}

/**
 * The SDK's retry interceptor dials again from a timer, and a timer that fires after the channel was closed
 * throws "Channel has been shut down" from nowhere, ending the process: `verbatim classify` stopped with
 * SIGTERM mid-job died so, its result() long poll retried once the server was stopped. So once closing, no
 * new retry is scheduled, and the channel closes only after those already scheduled have run.
 */
interface RetryGuard {
  closing: boolean;
  /** When the last retry scheduled so far fires. */
  until: number;
}

const retryGuards = new WeakMap<object, RetryGuard>();

/** A client connection; retries while a just-started server finishes starting. Close it with closeClient. */
export async function connectClient(target: TemporalTarget, timeoutMs = 30_000): Promise<Client> {
  const guard: RetryGuard = { closing: false, until: 0 };
  const retry = defaultGrpcRetryOptions();
  const connection = await retryConnect(
    () =>
      Connection.connect({
        ...connectionOptions(target),
        // grpc-js waits 1 s, then 1.6× longer each time (up to 2 min), before it dials a lost server again:
        // a server back after a few seconds would wait for the next try. Every 2 s at most costs nothing.
        channelArgs: { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 2_000 },
        interceptors: [
          makeGrpcRetryInterceptor({
            retryableDecider: (attempt, status) => !guard.closing && retry.retryableDecider(attempt, status),
            delayFunction: (attempt, status) => {
              const delay = retry.delayFunction(attempt, status);
              guard.until = Math.max(guard.until, Date.now() + delay);
              return delay;
            },
          }),
        ],
      }),
    timeoutMs,
    target.address,
  );
  retryGuards.set(connection, guard);
  return new Client({ connection, namespace: target.namespace });
}

/** Closes a client from connectClient once no retry of its calls is pending (at most a few seconds). */
export async function closeClient(client: Client): Promise<void> {
  const guard = retryGuards.get(client.connection);
  if (guard) {
    guard.closing = true;
    const wait = guard.until - Date.now();
    if (wait > 0) await sleep(wait + 50);
  }
  await client.connection.close();
}

export async function connectWorker(target: TemporalTarget, timeoutMs = 30_000): Promise<NativeConnection> {
  return retryConnect(() => NativeConnection.connect(connectionOptions(target)), timeoutMs, target.address);
}

/**
 * Makes sure verbatim's search attributes exist on the namespace. The embedded server registers them at
 * start; a self-hosted cluster takes them through the operator API; where that is refused (Temporal Cloud,
 * missing permission) jobs run without them, and the reason is logged.
 */
export async function ensureSearchAttributes(
  client: Client,
  namespace: string,
  logger: Logger,
): Promise<boolean> {
  const operator = client.connection.operatorService;
  try {
    const { customAttributes } = await operator.listSearchAttributes({ namespace });
    const missing = Object.values(SEARCH_ATTRIBUTES).filter((a) => !customAttributes?.[a.name]);
    if (missing.length === 0) return true;
    const types: Record<string, number> = { Keyword: 2, Int: 3, Text: 1, Double: 4, Bool: 5, Datetime: 6 };
    await operator.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((a) => [a.name, types[a.type] ?? 2])),
    });
    logger.info({ added: missing.map((a) => a.name) }, 'registered search attributes');
    return true;
  } catch (error) {
    logger.warn(
      { err: error },
      'search attributes unavailable: jobs run without them (filtering in the Temporal UI is limited)',
    );
    return false;
  }
}

/**
 * The namespace must exist: otherwise every start and poll fails later with a less telling error (and the
 * search attributes first warn about something else).
 */
export async function checkNamespace(client: Client, target: TemporalTarget, logger: Logger): Promise<void> {
  try {
    await client.connection.workflowService.describeNamespace({ namespace: target.namespace });
  } catch (error) {
    if (grpcCode(error) === GRPC_NOT_FOUND) {
      throw new ConfigError([
        `TEMPORAL_NAMESPACE: namespace ${JSON.stringify(target.namespace)} does not exist on ${target.address}`,
      ]);
    }
    // Not allowed to look (a narrow API key), or a passing hiccup: what follows will tell.
    logger.warn({ err: error }, 'cannot check that the namespace exists');
  }
}

/** The server could not be reached, or refused the connection: said without a stack trace. */
export class TemporalConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalConnectionError';
  }
}

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_NOT_FOUND = 5;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAUTHENTICATED = 16;

function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Errors that waiting does not mend: a wrong address, certificate or key; a refused API key. */
function isFatal(error: unknown): boolean {
  const code = grpcCode(error);
  if (code === GRPC_INVALID_ARGUMENT || code === GRPC_PERMISSION_DENIED || code === GRPC_UNAUTHENTICATED)
    return true;
  return /invalid (?:uri|address)|pem|certificate|unauthenticated|permission denied|api key/i.test(
    String(error),
  );
}

/**
 * Connects, retrying while the server is not up yet (a dev server just started, a cluster restarting),
 * failing at once on what waiting does not mend.
 */
export async function retryConnect<T>(fn: () => Promise<T>, timeoutMs: number, address: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let delay = 100; Date.now() < deadline; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await fn();
    } catch (error) {
      lastError = error;
      if (isFatal(error)) {
        throw new TemporalConnectionError(
          `the Temporal server at ${address} refused the connection (check TEMPORAL_ADDRESS, the TLS settings ` +
            `and TEMPORAL_API_KEY): ${errorText(error)}`,
        );
      }
      await sleep(delay);
    }
  }
  throw new TemporalConnectionError(
    `cannot reach the Temporal server at ${address} (TEMPORAL_ADDRESS) within ${timeoutMs / 1000} s: is it ` +
      `running, and do the TLS settings match it? ${errorText(lastError)}`,
  );
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/** The call failed because the server could not be reached (down, restarting), not because of what it said. */
export function isUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth += 1) {
    const code = grpcCode(e);
    if (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED) return true;
  }
  return false;
}

/** What core logs when a call failed because the server is out of reach (its Debug form of a tonic Status). */
const UNREACHABLE =
  /code: (?:Unavailable|DeadlineExceeded)|transport error|tcp connect error|connection refused|connection reset|broken pipe/i;

export interface ConnectionWatch {
  /** Answers once the server can be reached again; rejects (or hangs briefly) while it cannot. */
  readonly probe: () => Promise<unknown>;
  /** The outage is known and said elsewhere (the embedded server is being restarted): log it quietly. */
  readonly explained?: () => boolean;
}

/**
 * The core SDK retries every call to a server it cannot reach, polls for ever, and logs a warning for each
 * retry past the fifth: a server away for a few seconds printed dozens of lines. This keeps them to two, "the
 * server is unreachable" and "reachable again after 4.2 s (37 warnings)", and a reminder every 30 s between.
 * Until `watch` gives it a probe (a connection exists), entries pass through unchanged.
 */
export class ConnectionTrouble {
  private watching: ConnectionWatch | undefined;
  private outage: { since: number; warnings: number } | undefined;

  constructor(private readonly logger: Logger) {}

  watch(watching: ConnectionWatch | undefined): void {
    this.watching = watching;
  }

  /** Whether the SDK's log entry was about the server being out of reach, and so is taken care of here. */
  take(message: string, meta: Record<string, unknown> | undefined): boolean {
    if (!this.watching) return false;
    const error = meta?.error;
    if (!UNREACHABLE.test(`${message} ${typeof error === 'string' ? error : ''}`)) return false;
    if (this.outage) {
      this.outage.warnings += 1;
    } else {
      const outage = { since: Date.now(), warnings: 1 };
      this.outage = outage;
      void this.follow(this.watching, outage).finally(() => (this.outage = undefined));
    }
    this.logger.debug({ ...meta, sdk: true }, message);
    return true;
  }

  private async follow(
    watching: ConnectionWatch,
    outage: { since: number; warnings: number },
  ): Promise<void> {
    // A warning that arrives after the server came back (a completion whose retries ran out) is no outage.
    if (await reachable(watching)) return;
    // Quiet once explained: the restart is said in its own line, and its end must not look like news.
    let quiet = false;
    const level = () => {
      quiet ||= watching.explained?.() ?? false;
      return quiet ? 'info' : 'warn';
    };
    this.logger[level()]('Temporal server unreachable, retrying…');
    let remindAt = outage.since + 30_000;
    while (!(await reachable(watching))) {
      if (this.watching !== watching) return; // closed meanwhile: nothing left to reconnect
      if (Date.now() >= remindAt) {
        const seconds = Math.round((Date.now() - outage.since) / 1000);
        this.logger[level()](
          { warnings: outage.warnings },
          `Temporal server still unreachable after ${seconds} s`,
        );
        remindAt += 30_000;
      }
      await sleep(500);
    }
    const seconds = ((Date.now() - outage.since) / 1000).toFixed(1);
    this.logger[level()](
      { warnings: outage.warnings, downMs: Date.now() - outage.since },
      `Temporal server reachable again after ${seconds} s (${outage.warnings} retry warnings summarised)`,
    );
  }
}

async function reachable(watching: ConnectionWatch): Promise<boolean> {
  try {
    await watching.probe();
    return true;
  } catch {
    return false;
  }
}
