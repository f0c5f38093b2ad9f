import { parseArgs } from 'node:util';
import { createApp } from '../api/app.js';
import { listen } from '../api/server.js';
import { previewSheets } from '../sheets/index.js';
import { loadConfig, loadDotEnv } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { startRuntime } from './runtime.js';

export const SERVE_HELP = `Usage: verbatim serve

Runs the service on one machine: the API and web page on HOST:PORT (default 127.0.0.1:3000), a worker,
and, when TEMPORAL_ADDRESS is unset, an embedded Temporal server (with its UI) persisted under DATA_DIR.
With --no-worker it runs the API alone (workers elsewhere: verbatim worker).
`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' }, 'no-worker': { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'verbatim-serve');
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const runtime = await startRuntime({ config, logger, worker: !values['no-worker'], say });
  const shutdown = new AbortController();
  const sse = { open: 0 };
  const app = createApp({
    jobs: runtime.jobs,
    client: runtime.client,
    store: runtime.store,
    dataDir: config.dataDir,
    namespace: config.temporal.namespace,
    defaults: config.job,
    preview: previewSheets,
    maxUploadBytes: config.api.maxUploadBytes,
    ...(config.api.token ? { apiToken: config.api.token } : {}),
    ...(runtime.temporalUiUrl ? { temporalUiUrl: runtime.temporalUiUrl } : {}),
    logger,
    shutdown: shutdown.signal,
    sse,
  });
  const server = await listen({ app, host: config.api.host, port: config.api.port, shutdown, sse, logger });
  process.stdout.write(
    [
      `verbatim is running`,
      `  Web page:    ${server.url}/`,
      `  API:         ${server.url}/openapi.json`,
      `  Temporal UI: ${runtime.temporalUiUrl ?? '(the UI of your Temporal cluster)'}`,
      `  Temporal:    ${runtime.temporalAddress} (namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue})`,
      '',
    ].join('\n'),
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info('shutting down: draining event streams, letting running batches finish');
      await server.close();
      await runtime.close();
    })();
    return stopping;
  };
  // Without a worker, nothing else listens for signals; with one, the SDK shuts the worker down and we follow.
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  await runtime.workerDone.catch((error: unknown) => logger.error({ err: error }, 'worker failed'));
  if (runtime.workers) await stop();
  else await new Promise<void>((resolve) => shutdown.signal.addEventListener('abort', () => resolve()));
  await stopping;
  return 0;
}
