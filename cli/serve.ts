import { estimateJob } from '../activities/plan-job.js';
import { parseArgs } from 'node:util';
import { createApp } from '../api/app.js';
import { listen } from '../api/server.js';
import { previewSheets } from '../sheets/index.js';
import { loadConfig, loadDotEnv } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { TemporalConnectionError } from '../lib/temporal.js';
import { onStopSignals, startRuntime } from './runtime.js';

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
  const starting = startRuntime({ config, logger, worker: !values['no-worker'], say });
  // Installed before anything starts: a stop asked for meanwhile waits for the start, then undoes it.
  let stopping: Promise<void> | undefined;
  let server: Awaited<ReturnType<typeof listen>> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const runtime = await starting.catch(() => undefined);
      logger.info('shutting down: draining event streams, letting running batches finish');
      await server?.close();
      await runtime?.close();
    })();
    return stopping;
  };
  // With a worker the SDK also shuts it down on these signals; stop() follows either way.
  const signals = onStopSignals(() => void stop());
  const runtime = await starting.catch((error: unknown) => {
    signals.dispose();
    throw error;
  });
  const shutdown = new AbortController();
  const sse = { open: 0 };
  const app = createApp({
    jobs: runtime.jobs,
    codeframes: runtime.codeframes,
    dataDir: config.dataDir,
    namespace: config.temporal.namespace,
    defaults: config.job,
    preview: previewSheets,
    estimate: estimateJob,
    maxUploadBytes: config.api.maxUploadBytes,
    ...(config.api.token ? { apiToken: config.api.token } : {}),
    ...(runtime.temporalUiUrl ? { temporalUiUrl: runtime.temporalUiUrl } : {}),
    ...(runtime.llm ? { simulated: runtime.llm.simulated } : {}),
    logger,
    shutdown: shutdown.signal,
    sse,
  });
  if (!stopping)
    server = await listen({ app, host: config.api.host, port: config.api.port, shutdown, sse, logger });
  if (stopping || !server) {
    // Asked to stop while starting: stop() may have run before the API listened.
    await stopping;
    await server?.close();
    signals.dispose();
    return 0;
  }
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

  // Runs until a signal (which stops the worker, or aborts `shutdown`), a failed worker, or a lost server.
  let failed = false;
  const fail = (error: unknown) => {
    failed = true;
    logger.error({ err: error }, error instanceof TemporalConnectionError ? error.message : 'worker failed');
  };
  if (runtime.workers) await runtime.workerDone.catch(fail);
  else {
    const aborted = new Promise<void>((resolve) =>
      shutdown.signal.addEventListener('abort', () => resolve()),
    );
    await Promise.race([aborted, runtime.serverLost]).catch(fail);
  }
  await stop();
  signals.dispose();
  return failed ? 1 : 0;
}
