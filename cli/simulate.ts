import { parseArgs } from 'node:util';
import { FAULT_KINDS, startSimulator } from '../simulator/index.js';
import type { FaultKind, FaultRule, SimulatorOptions } from '../simulator/index.js';

const USAGE = `Usage: verbatim simulate [options]

Runs an OpenAI-compatible server that codes answers by a fixed keyword rule, with OpenAI's rate limits,
headers and errors, so verbatim can be tried and tested without an API key.

Options:
  --port <n>           port to listen on (default 8787; 0 picks a free one)
  --host <host>        interface to listen on (default 127.0.0.1)
  --latency-ms <ms>    mean latency of an answer (default 0)
  --jitter-ms <ms>     latency varies uniformly by ± this much (default 0)
  --rpm <n>            requests per minute budget (default: none enforced)
  --tpm <n>            tokens per minute budget (default: none enforced)
  --time-scale <f>     length of a budget minute relative to real time, e.g. 0.1 (default 1); scales the
                       Batch API's durations too
  --fault <kind:rate>  inject a fault into that share of requests, e.g. server_error:0.05, or into the
                       next n requests with kind:nx, e.g. rate_limit:3x (repeatable)
                       kinds: ${FAULT_KINDS.join(', ')}
  --seed <n>           seed for random faults and jitter (default 1)
  --help               show this help

Batch API: /v1/files and /v1/batches. Its knobs (validatingMs, lineMs, finalizingMs, cancellingMs,
completionWindowMs, enqueuedTokenLimit, faults, expire) go in "batch" via /_sim/config, e.g.
{"batch": {"lineMs": 50, "expire": {"count": 1}}}.

Control: GET /_sim/stats, POST /_sim/reset, POST /_sim/config (JSON, e.g. {"rpm": 500}).`;

const DEFAULT_PORT = 8787;

/** `verbatim simulate`: runs the simulator until SIGINT or SIGTERM. */
export async function simulateCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'latency-ms': { type: 'string' },
      'jitter-ms': { type: 'string' },
      rpm: { type: 'string' },
      tpm: { type: 'string' },
      'time-scale': { type: 'string' },
      fault: { type: 'string', multiple: true },
      seed: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const meanMs = optionalNumber('--latency-ms', values['latency-ms']);
  const jitterMs = optionalNumber('--jitter-ms', values['jitter-ms']);
  const options: SimulatorOptions = {
    port: optionalNumber('--port', values.port) ?? DEFAULT_PORT,
    host: values.host,
    latency: meanMs !== undefined || jitterMs !== undefined ? { meanMs: meanMs ?? 0, jitterMs } : undefined,
    rpm: optionalNumber('--rpm', values.rpm),
    tpm: optionalNumber('--tpm', values.tpm),
    timeScale: optionalNumber('--time-scale', values['time-scale']),
    faults: (values.fault ?? []).map(parseFault),
    seed: optionalNumber('--seed', values.seed),
  };
  // startSimulator checks the ranges (positive budgets, rates within 0..1, …) and names every bad value.
  const simulator = await startSimulator(options);
  console.log(`verbatim simulator listening on ${simulator.baseURL}`);
  console.log(`Point verbatim at it:  OPENAI_BASE_URL=${simulator.baseURL}  (no key needed)`);
  console.log(`Stats:                 curl ${simulator.url}/_sim/stats`);
  console.log('Stop with Ctrl-C.');
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await simulator.close();
  console.log('verbatim simulator stopped.');
}

function optionalNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new Error(`${flag} needs a number, not ${JSON.stringify(value)}`);
  return n;
}

/** `kind:rate` (`server_error:0.05`), `kind:nx` (the next n requests: `rate_limit:3x`), or a bare `kind`. */
export function parseFault(spec: string): FaultRule {
  const [kind = '', amount] = spec.split(':');
  if (!isFaultKind(kind)) {
    throw new Error(
      `--fault ${spec}: unknown kind ${JSON.stringify(kind)}; kinds: ${FAULT_KINDS.join(', ')}`,
    );
  }
  if (amount === undefined) return { kind };
  const times = /^(\d+)x$/i.exec(amount.trim());
  if (times) return { kind, count: Number(times[1]) };
  return { kind, rate: optionalNumber(`--fault ${kind}`, amount) };
}

function isFaultKind(kind: string): kind is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(kind);
}
