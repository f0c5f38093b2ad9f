import { once } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchApi } from './batch-api.js';
import { BatchQueue } from './batch.js';
import { seededRandom } from '../domain/sampling.js';
import { FaultInjector, faultTarget } from './faults.js';
import { FileStore, MAX_UPLOAD_BYTES } from './files.js';
import { RateLimits, rateLimitMessage, requestTooLargeMessage } from './limits.js';
import type { Rejection } from './limits.js';
import type { ModelBehaviour } from './model.js';
import { answerChat } from './model.js';
import type { FaultRule, SimulatorOptions } from './options.js';
import { InvalidSimulatorOptionsError, parseOptions } from './options.js';
import type { ChatRequest } from './protocol.js';
import {
  BAD_GATEWAY_HTML,
  BAD_JSON_MESSAGE,
  MODEL_ID,
  PromptCache,
  SERVER_ERROR_MESSAGE,
  SIMULATOR_HEADER,
  chargeOf,
  errorBody,
  parseChatRequest,
  requestId,
} from './protocol.js';
import type { SimulatorStats } from './stats.js';
import { StatsRecorder } from './stats.js';
import { isThemeRequest, parseThemeRequest, themeReply } from './themes.js';

export interface Simulator {
  /** http://HOST:PORT */
  readonly url: string;
  /** http://HOST:PORT/v1, what the openai client takes as `baseURL`. */
  readonly baseURL: string;
  /** A copy (batches brought up to now first). */
  stats(): SimulatorStats;
  resetStats(): void;
  /**
   * Changes knobs at runtime (not host or port). Naming rpm, tpm or timeScale refills both budgets; naming
   * batch restarts its fault and expiry counts.
   */
  configure(patch: Partial<SimulatorOptions>): void;
  /**
   * The raw bodies of the chat requests received since `keepRequests` was turned on (or the last `resetStats`),
   * for tests that check what was sent: that a human-coded column never reached the model, say.
   */
  requestBodies(): readonly string[];
  /** Stops listening and ends every open request, hanging ones included. */
  close(): Promise<void>;
}

const DEFAULT_SEED = 1;

const MESSAGES = {
  badKey:
    'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
  quota:
    'You exceeded your current quota, please check your plan and billing details. For more information on ' +
    'this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
  overloaded: 'The engine is currently overloaded, please try again later.',
};

/** Starts an OpenAI-compatible server on `host:port` (default 127.0.0.1, an ephemeral port). */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const simulation = new Simulation(parseOptions(options));
  const server = createServer((req, res) => void simulation.handle(req, res));
  const host = options.host ?? '127.0.0.1';
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    baseURL: `${url}/v1`,
    stats: () => simulation.snapshot(),
    resetStats: () => simulation.resetStats(),
    configure: (patch) => simulation.configure(patch),
    requestBodies: () => [...simulation.bodies],
    close: () => (closing ??= simulation.close(server)),
  };
}

/** The simulator's state and request handling; times are `performance.now()` milliseconds. */
class Simulation {
  readonly stats = new StatsRecorder(performance.now());
  /** Chat request bodies, kept only with `keepRequests`. */
  readonly bodies: string[] = [];
  private options: Partial<SimulatorOptions>;
  private limits: RateLimits;
  private faults: FaultInjector;
  private random: () => number;
  private readonly cache = new PromptCache();
  /** One per open chat request: aborted when its client leaves or the server closes. */
  private readonly open = new Set<AbortController>();
  private readonly files = new FileStore();
  private readonly batches = new BatchQueue({
    files: this.files,
    stats: this.stats,
    random: () => this.random(),
    promptCache: () => this.promptCache(),
    behaviour: () => this.behaviour(),
  });
  private readonly batchApi = new BatchApi(this.files, this.batches, this.stats);

  constructor(options: Partial<SimulatorOptions>) {
    this.options = options;
    this.limits = this.newLimits();
    this.faults = new FaultInjector(options.faults ?? []);
    this.random = seededRandom(options.seed ?? DEFAULT_SEED);
    this.batches.configure(options.batch, options.timeScale ?? 1, true);
  }

  /** How the simulated model codes: its wrong share, per model where one is given. */
  private behaviour(): ModelBehaviour {
    return {
      wrongRate: this.options.wrongRate,
      modelWrongRates: this.options.modelWrongRates,
      usage: this.options.usage,
    };
  }

  configure(patch: unknown): void {
    const parsed = parseOptions(patch);
    this.options = { ...this.options, ...parsed };
    if ('rpm' in parsed || 'tpm' in parsed || 'timeScale' in parsed) this.limits = this.newLimits();
    if ('faults' in parsed) this.faults = new FaultInjector(this.options.faults ?? []);
    if ('seed' in parsed) this.random = seededRandom(this.options.seed ?? DEFAULT_SEED);
    if ('batch' in parsed || 'timeScale' in parsed) {
      this.batches.configure(this.options.batch, this.options.timeScale ?? 1, 'batch' in parsed);
    }
  }

  snapshot(): SimulatorStats {
    this.batches.advance(performance.now());
    return this.stats.snapshot();
  }

  /** Lines whose time came before the reset are counted before it, however late anyone looks. */
  resetStats(): void {
    const now = performance.now();
    this.batches.advance(now);
    this.stats.reset(now);
    this.bodies.length = 0;
  }

  async close(server: Server): Promise<void> {
    for (const controller of this.open) controller.abort();
    const closed = new Promise<void>((resolve, reject) =>
      server.close((error) => (error ? reject(error) : resolve())),
    );
    server.closeAllConnections();
    await closed;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const { pathname } = url;
    if (req.method === 'POST' && pathname === '/v1/chat/completions') return this.chat(req, res);
    if (/^\/v1\/(files|batches)(\/|$)/.test(pathname)) return this.serveBatchApi(req, res, url);
    const arrival = performance.now();
    try {
      const body = await readBody(req);
      if (pathname.startsWith('/_sim/')) return this.control(req.method, pathname, body, res);
      if (req.method === 'GET' && pathname === '/v1/models') {
        const model = { id: MODEL_ID, object: 'model', created: 1_721_172_741, owned_by: 'system' };
        return this.sendJson(res, 200, { object: 'list', data: [model] }, arrival);
      }
      const message = `Invalid URL (${req.method} ${pathname})`;
      this.sendJson(res, 404, errorBody(message, 'invalid_request_error', null), arrival);
    } catch (error) {
      if (req.socket.destroyed) return;
      this.sendJson(res, 500, errorBody(String(error), 'server_error', null), arrival);
    }
  }

  /** `/_sim/*`: stats, reset and runtime configuration for benchmarks and other processes. No auth. */
  private control(method: string | undefined, pathname: string, body: string, res: ServerResponse): void {
    if (method === 'GET' && pathname === '/_sim/stats') return send(res, 200, this.snapshot());
    if (method === 'POST' && pathname === '/_sim/reset') {
      this.resetStats();
      return send(res, 204);
    }
    if (method === 'POST' && pathname === '/_sim/config') {
      try {
        this.configure(body.trim() === '' ? {} : JSON.parse(body));
      } catch (error) {
        if (!(error instanceof SyntaxError || error instanceof InvalidSimulatorOptionsError)) throw error;
        return send(res, 400, errorBody(error.message, 'invalid_request_error', null));
      }
      return send(res, 204);
    }
    send(res, 404, errorBody(`Invalid URL (${method} ${pathname})`, 'invalid_request_error', null));
  }

  /** The Batch API: files and batches. Neither the latency nor the RPM/TPM budgets apply. */
  private async serveBatchApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const arrival = performance.now();
    try {
      const body = await readBytes(req, MAX_UPLOAD_BYTES);
      const { apiKey } = this.options;
      if (apiKey !== undefined && req.headers.authorization !== `Bearer ${apiKey}`) {
        const error = errorBody(MESSAGES.badKey, 'invalid_request_error', 'invalid_api_key');
        return this.sendJson(res, 401, error, arrival);
      }
      const reply = await this.batchApi.handle({
        method: req.method ?? 'GET',
        pathname: url.pathname,
        query: url.searchParams,
        body,
        contentType: req.headers['content-type'],
        now: performance.now(),
      });
      if (reply === undefined) {
        const message = `Invalid URL (${req.method} ${url.pathname})`;
        return this.sendJson(res, 404, errorBody(message, 'invalid_request_error', null), arrival);
      }
      send(res, reply.status, 'bytes' in reply ? reply.bytes : reply.json, this.headers(arrival));
    } catch (error) {
      if (req.socket.destroyed) return;
      this.sendJson(res, 500, errorBody(String(error), 'server_error', null), arrival);
    }
  }

  private async chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrival = performance.now();
    const arrivedAt = this.stats.arrive(arrival);
    const controller = new AbortController();
    this.open.add(controller);
    res.on('close', () => controller.abort());
    let outcome = 'aborted';
    try {
      outcome = await this.serveChat(req, res, arrival, arrivedAt, controller.signal);
    } catch (error) {
      // A handler bug, not a client that left: answer it rather than leave the request open.
      if (!controller.signal.aborted && !req.socket.destroyed) {
        this.sendJson(res, 500, errorBody(String(error), 'server_error', null), arrival);
        outcome = '500';
      }
    } finally {
      this.open.delete(controller);
      this.stats.depart(outcome);
    }
  }

  /** Answers one chat completion request; returns its outcome for the stats. */
  private async serveChat(
    req: IncomingMessage,
    res: ServerResponse,
    arrival: number,
    arrivedAt: number,
    signal: AbortSignal,
  ): Promise<string> {
    const body = await readBody(req);
    if (this.options.keepRequests) this.bodies.push(body);
    const reply = (status: number, error: ReturnType<typeof errorBody>): string => {
      this.sendJson(res, status, error, arrival);
      return String(status);
    };
    const { apiKey } = this.options;
    if (apiKey !== undefined && req.headers.authorization !== `Bearer ${apiKey}`) {
      return reply(401, errorBody(MESSAGES.badKey, 'invalid_request_error', 'invalid_api_key'));
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return reply(400, errorBody(BAD_JSON_MESSAGE, 'invalid_request_error', null));
    }
    // Codeframe drafting's requests are told apart by their schema's name; the rest are codings.
    const parsed = parseThemeRequest(json) ?? parseChatRequest(json);
    if (!parsed.ok) return reply(400, errorBody(parsed.message, 'invalid_request_error', null, parsed.param));
    const { request } = parsed;
    this.stats.settings(request.model, request.temperature, request.cacheKey);
    this.stats.task(isThemeRequest(request) ? request.themes.kind : request.coding ? 'coding' : 'plain');

    // Like OpenAI: charged at arrival, the prompt estimate plus all the output the request allows.
    const charge = chargeOf(request);
    if (this.limits.tooLarge(charge)) {
      const message = requestTooLargeMessage(request.model, this.limits.tokenLimit, charge);
      return reply(429, errorBody(message, 'tokens', 'rate_limit_exceeded'));
    }
    const rejection = this.limits.admit(charge, performance.now());
    if (rejection) return this.rateLimited(res, request.model, rejection, arrival);
    this.stats.admit(arrivedAt, charge);

    const fault = this.pickFault(request, arrivedAt);
    switch (fault?.kind) {
      case 'rate_limit':
        return this.rateLimited(res, request.model, this.limits.spentRequests(), arrival);
      case 'insufficient_quota':
        return reply(429, errorBody(MESSAGES.quota, 'insufficient_quota', 'insufficient_quota'));
      case 'server_error':
        await delay(this.latency(0), signal);
        return reply(500, errorBody(SERVER_ERROR_MESSAGE, 'server_error', null));
      case 'overloaded':
        await delay(this.latency(0), signal);
        return reply(503, errorBody(MESSAGES.overloaded, 'server_error', null));
      case 'bad_gateway':
        await delay(this.latency(0), signal);
        send(res, 502, BAD_GATEWAY_HTML, this.headers(arrival));
        return '502';
      case 'drop':
        await delay(this.latency(0), signal);
        req.socket.destroy();
        return 'drop';
      case 'hang':
        try {
          await delay(fault.hangMs, signal);
        } catch (error) {
          if (signal.aborted) return 'hang';
          throw error;
        }
        break;
    }
    return this.complete(res, request, fault, arrival, signal);
  }

  private pickFault(request: ChatRequest, arrivedAt: number): FaultRule | undefined {
    const fault = this.faults.pick(faultTarget(request), this.random);
    if (fault) this.stats.fault(fault.kind, arrivedAt);
    return fault;
  }

  private async complete(
    res: ServerResponse,
    request: ChatRequest,
    fault: FaultRule | undefined,
    arrival: number,
    signal: AbortSignal,
  ): Promise<string> {
    const answer = isThemeRequest(request)
      ? answerChat(
          request,
          fault?.kind,
          this.promptCache(),
          fault,
          {},
          themeReply(request.themes, fault?.kind, this.options.themes),
        )
      : answerChat(request, fault?.kind, this.promptCache(), fault, this.behaviour());
    await delay(this.latency(answer.usage.completionTokens), signal);
    this.sendJson(res, 200, answer.body, arrival);
    this.stats.reply(answer.usage, answer.labelsReturned, answer.validCoding);
    return '200';
  }

  private promptCache(): PromptCache | undefined {
    return this.options.cachePrompts === false ? undefined : this.cache;
  }

  private rateLimited(res: ServerResponse, model: string, rejection: Rejection, arrival: number): string {
    const body = errorBody(rateLimitMessage(model, rejection), rejection.type, 'rate_limit_exceeded');
    const retryAfter = String(Math.ceil(rejection.waitMs / 1000));
    send(res, 429, body, { ...this.headers(arrival), 'retry-after': retryAfter });
    return '429';
  }

  /** meanMs ± uniform jitter + perOutputTokenMs per output token, never negative. */
  private latency(outputTokens: number): number {
    const { meanMs = 0, jitterMs = 0, perOutputTokenMs = 0 } = this.options.latency ?? {};
    const jitter = jitterMs > 0 ? (this.random() * 2 - 1) * jitterMs : 0;
    return Math.max(0, meanMs + jitter + perOutputTokenMs * outputTokens);
  }

  private newLimits(): RateLimits {
    const { rpm, tpm, timeScale = 1 } = this.options;
    return new RateLimits(rpm, tpm, timeScale, performance.now());
  }

  /** Headers of every API response: the rate-limit state as of now, a request id and the time taken. */
  private headers(arrival: number): Record<string, string> {
    const now = performance.now();
    return {
      ...(this.options.rateLimitHeaders === false ? {} : this.limits.headers(now)),
      'x-request-id': requestId(),
      [SIMULATOR_HEADER]: '1',
      'openai-processing-ms': String(Math.round(now - arrival)),
    };
  }

  private sendJson(res: ServerResponse, status: number, body: unknown, arrival: number): void {
    send(res, status, body, this.headers(arrival));
  }
}

/**
 * Writes a response unless the client has gone; a string body is sent as HTML, a Buffer as bytes (a file's
 * content), anything else as JSON.
 */
function send(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  const [contentType, content] = Buffer.isBuffer(body)
    ? ['application/octet-stream', body]
    : typeof body === 'string'
      ? ['text/html; charset=utf-8', body]
      : ['application/json', JSON.stringify(body)];
  res
    .writeHead(status, {
      ...headers,
      'content-type': contentType,
      'content-length': String(Buffer.byteLength(content)),
    })
    .end(content);
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBytes(req))?.toString('utf8') ?? '';
}

/** The whole body, or undefined if it is longer than `limit` (then read to its end all the same, unkept). */
async function readBytes(req: IncomingMessage, limit = Infinity): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}

/** Resolves after `ms` (never, if undefined); rejects with an AbortError once `signal` aborts. */
async function delay(ms: number | undefined, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (ms === undefined) {
    await once(signal, 'abort');
    signal.throwIfAborted();
  } else if (ms > 0) {
    await sleep(ms, undefined, { signal });
  }
}
