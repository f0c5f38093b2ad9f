import os from 'node:os';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { LogLevel } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { LlmEndpoint } from '../activities/llm.js';
import { createLlmEndpoint } from '../activities/llm.js';
import { createBudget } from '../worker/budget.js';
import { inspectColumn } from '../sheets/index.js';
import type { CodeframeService } from '../jobs/codeframes.js';
import { withoutCredentials } from '../lib/urls.js';
import { createCodeframeService } from '../jobs/codeframes.js';
import type { TemporalJobService } from '../jobs/service.js';
import { createJobService } from '../jobs/service.js';
import type { Config } from '../lib/config.js';
import type { DevServer } from '../lib/dev-server.js';
import { startDevServer } from '../lib/dev-server.js';
import type { Logger } from '../lib/logger.js';
import { JobStore } from '../lib/store.js';
import {
  ConnectionTrouble,
  checkNamespace,
  closeClient,
  connectClient,
  connectWorker,
  ensureSearchAttributes,
  resolveTarget,
} from '../lib/temporal.js';
import { ensureTemporalCli } from '../lib/temporal-cli.js';
import type { Simulator } from '../simulator/index.js';
import { startSimulator } from '../simulator/index.js';
import type { VerbatimWorkers } from '../worker/workers.js';
import { createVerbatimWorkers } from '../worker/workers.js';

/**
 * What a verbatim process runs: a Temporal server (embedded unless TEMPORAL_ADDRESS is set), a client,
 * and optionally a worker whose LLM calls go to OpenAI, or to the simulator when no API key is set.
 */
export interface VerbatimRuntime {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: JobStore;
  readonly client: Client;
  readonly jobs: TemporalJobService;
  /** Codeframe drafts (`verbatim codeframe`), through the same client and store. */
  readonly codeframes: CodeframeService;
  readonly temporalAddress: string;
  readonly temporalUiUrl: string | undefined;
  readonly llm: LlmEndpoint | undefined;
  readonly workers: VerbatimWorkers | undefined;
  /** Settles when the worker stops; rejects if it fails, or if the embedded server is lost for good. */
  readonly workerDone: Promise<void>;
  /** Rejects if the embedded Temporal server died and could not be restarted; else never settles. */
  readonly serverLost: Promise<never>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly worker: boolean;
  /** Prints lines for a person (build progress of the Temporal CLI, the simulator warning). */
  readonly say: (line: string) => void;
  readonly headless?: boolean;
}

let connectionTrouble: ConnectionTrouble | undefined;

export async function startRuntime(options: RuntimeOptions): Promise<VerbatimRuntime> {
  const { config, logger, say } = options;
  const trouble = installSdkLogger(logger);
  const cleanups: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((error) => logger.warn({ err: error }, 'clean-up failed'));
  };
  try {
    let devServer: DevServer | undefined;
    let address = config.temporal.address;
    if (!address) {
      const cliPath = await ensureTemporalCli({
        ...(config.temporal.cliPath ? { explicit: config.temporal.cliPath } : {}),
        log: say,
      });
      devServer = await startDevServer({
        cliPath,
        dataDir: config.dataDir,
        namespace: config.temporal.namespace,
        ...(config.temporal.uiPort ? { uiPort: config.temporal.uiPort } : {}),
        headless: options.headless ?? false,
        logger,
        notify: say,
      });
      cleanups.push(() => devServer?.stop() ?? Promise.resolve());
      address = devServer.address;
    }
    const target = await resolveTarget(config.temporal, address);
    const client = await connectClient(target);
    cleanups.push(() => closeClient(client));
    const server = devServer;
    trouble.watch({
      probe: () =>
        client.connection.withDeadline(Date.now() + 2_000, () => client.workflowService.getSystemInfo({})),
      explained: () => server?.restarting ?? false,
    });
    cleanups.push(() => Promise.resolve(trouble.watch(undefined)));
    // The embedded server creates its namespace as it starts; a configured cluster may not have it.
    if (!devServer) await checkNamespace(client, target, logger);
    if (target.apiKey && !target.tls) {
      // Allowed for a proxy or service mesh that encrypts on the way; anywhere else the key leaks.
      logger.warn(
        'TEMPORAL_API_KEY goes out without TLS (TEMPORAL_TLS=false): only safe behind an encrypting proxy',
      );
    }
    const searchAttributes = await ensureSearchAttributes(client, config.temporal.namespace, logger);
    const store = new JobStore(config.dataDir);

    const serverLost = devServer?.lost ?? new Promise<never>(() => {});
    let llm: LlmEndpoint | undefined;
    let workers: VerbatimWorkers | undefined;
    let workerDone: Promise<void> = Promise.resolve();
    if (options.worker) {
      let simulator: Simulator | undefined;
      if (!config.openai.apiKey && config.openai.baseURL) {
        say(
          `No OPENAI_API_KEY: sending requests to ${withoutCredentials(config.openai.baseURL)} without one.`,
        );
      } else if (!config.openai.apiKey) {
        simulator = await startSimulator({
          latency: { meanMs: config.simulator.latencyMs, jitterMs: config.simulator.latencyMs / 2 },
        });
        cleanups.push(() => simulator?.close() ?? Promise.resolve());
        say(SIMULATOR_BANNER);
      }
      llm = createLlmEndpoint({
        apiKey: config.openai.apiKey,
        baseURL: config.openai.baseURL,
        timeoutMs: config.openai.timeoutMs,
        ...(simulator ? { simulatorBaseURL: simulator.baseURL } : {}),
      });
      const connection: NativeConnection = await connectWorker(target);
      cleanups.push(() => connection.close());
      const budget = createBudget({
        client,
        limits: {
          ...(config.openai.rpm ? { rpm: config.openai.rpm } : {}),
          ...(config.openai.tpm ? { tpm: config.openai.tpm } : {}),
          ...(config.openai.budgetWindowMs !== 60_000 ? { windowMs: config.openai.budgetWindowMs } : {}),
        },
        taskQueue: config.temporal.taskQueue,
        llmTaskQueue: config.temporal.llmTaskQueue,
      });
      workers = await createVerbatimWorkers({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        llmTaskQueue: config.temporal.llmTaskQueue,
        llmSlots: config.job.maxWorkers,
        deps: { store, llm, ...(budget ? { budget } : {}) },
        shutdownGraceMs: config.shutdownGraceMs,
        logger,
        identity: `verbatim-${process.pid}@${os.hostname()}`,
      });
      const running = workers;
      workerDone = Promise.race([running.run(), serverLost]);
      cleanups.push(async () => {
        running.shutdown();
        await workerDone.catch(() => {});
      });
    }

    const serviceDeps = {
      client,
      store,
      taskQueue: config.temporal.taskQueue,
      searchAttributes,
      inspect: inspectColumn,
    };
    const jobs = createJobService(serviceDeps);
    const codeframes = createCodeframeService(serviceDeps);
    return {
      config,
      logger,
      store,
      client,
      jobs,
      codeframes,
      temporalAddress: address,
      temporalUiUrl: devServer?.uiUrl ?? config.temporal.uiUrl,
      llm,
      workers,
      workerDone,
      serverLost,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export const SIMULATOR_BANNER = [
  '',
  '  ┌──────────────────────────────────────────────────────────────────────────────┐',
  '  │  NO OPENAI_API_KEY: SIMULATED RUN. A local simulator answers instead of a    │',
  '  │  model, so the categories are NOT real codings. Set OPENAI_API_KEY to code.  │',
  '  └──────────────────────────────────────────────────────────────────────────────┘',
  '',
].join('\n');

/**
 * Routes the Temporal SDK's own logs into the process logger (once per process), the core SDK's included:
 * without `forward`, core printed its warnings straight to stderr in its own format, one per retry.
 */
function installSdkLogger(logger: Logger): ConnectionTrouble {
  if (connectionTrouble) return connectionTrouble;
  const trouble = new ConnectionTrouble(logger);
  connectionTrouble = trouble;
  const level = logger.level.toUpperCase() as LogLevel;
  // Warnings always reach the callback (connection trouble is summarised there); pino drops what it must.
  const sdkLevel: LogLevel = ['TRACE', 'DEBUG', 'INFO'].includes(level) ? level : 'WARN';
  Runtime.install({
    telemetryOptions: {
      logging: {
        forward: {},
        filter: { core: sdkLevel === 'TRACE' || sdkLevel === 'DEBUG' ? sdkLevel : 'WARN', other: 'ERROR' },
      },
    },
    logger: new DefaultLogger(sdkLevel, (entry) => {
      // The LLM worker polls activities only, by design: not worth a warning.
      if (entry.message.startsWith('No workflows registered')) return;
      // An activity a hand-over abandoned finished after its run closed: expected, its result is stored.
      if (entry.message.startsWith('Activity not found on completion')) {
        logger.debug({ ...entry.meta, sdk: true }, entry.message);
        return;
      }
      if (entry.level === 'WARN' || entry.level === 'ERROR') {
        if (trouble.take(entry.message, entry.meta)) return;
      }
      const method =
        entry.level === 'TRACE'
          ? 'trace'
          : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
      logger[method]({ ...entry.meta, sdk: true }, entry.message);
    }),
  });
  return trouble;
}

export interface StopSignals {
  /** The signal that asked the command to stop, if one did. */
  readonly received: NodeJS.Signals | undefined;
  dispose(): void;
}

/**
 * SIGINT and SIGTERM stop a command gracefully: `stop` runs on the first. A second Ctrl-C exits at once
 * (the person means it); a second SIGTERM does not, being the same request again: a process manager
 * repeating itself, or bin/verbatim.js relaying npm's stop after a Ctrl-C already reached us.
 */
export function onStopSignals(stop: (signal: NodeJS.Signals) => void): StopSignals {
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (received) {
      if (signal === 'SIGINT') process.exit(130);
      return;
    }
    received = signal;
    stop(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get received() {
      return received;
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
