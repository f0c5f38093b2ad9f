#!/bin/sh
# Container health check of the verbatim image. The slim base has no curl, so the check is a small Node
# program (built-ins only) fed to node on standard input.
#
#   healthcheck.sh api      GET /healthz on this container's PORT: the API answers and reaches Temporal
#                           (/healthz returns 503 when Temporal is unreachable).
#   healthcheck.sh worker   the worker's heartbeat file is fresh and the Temporal frontend at
#                           TEMPORAL_ADDRESS accepts connections. The worker (worker/main.ts) rewrites
#                           $TMPDIR/verbatim-worker.heartbeat (/tmp in the image) every 10 s while its task
#                           queue workers run or drain after SIGTERM: a missing or old file means a
#                           worker not started yet, a stuck event loop, or workers that failed or
#                           stopped. A worker that cannot reach Temporal does no work either.
#   healthcheck.sh          picks `api` or `worker` from the command that the container runs.
#
# Exit code 0 is healthy, 1 unhealthy (Docker reserves 2).
exec node --input-type=module - "$@" <<'JS'
import { readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const TIMEOUT_MS = 4000;
// The worker beats every 10 s; a minute leaves room for a long synchronous step (a large workbook).
const HEARTBEAT_MAX_AGE_MS = 60_000;

function detectMode() {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let args;
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const main = args.findIndex((arg) => arg.endsWith('cli/main.js'));
    if (main === -1) continue;
    if (args[main + 1] === 'serve') return 'api';
    if (args[main + 1] === 'worker') return 'worker';
  }
  return 'none';
}

function checkApi() {
  const port = Number(process.env.PORT || 3000);
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? true : `GET /healthz answered ${res.statusCode}`);
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', (error) => resolve(`GET /healthz on port ${port}: ${error.message}`));
  });
}

function checkTemporal() {
  const address = (process.env.TEMPORAL_ADDRESS || '').trim();
  // Without TEMPORAL_ADDRESS the process runs its own embedded server: nothing outside to reach.
  if (!address) return Promise.resolve(true);
  // host:port or [v6]:port; Temporal's port when none is given.
  const match = /^\[(.+)\](?::(\d+))?$/.exec(address) || /^([^:]+)(?::(\d+))?$/.exec(address);
  if (!match) return Promise.resolve(`TEMPORAL_ADDRESS is not host:port: ${address}`);
  return new Promise((resolve) => {
    const socket = net.connect({ host: match[1], port: Number(match[2] || 7233), timeout: TIMEOUT_MS });
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('timeout', () => socket.destroy(new Error('timed out')));
    socket.once('error', (error) => resolve(`Temporal at ${address}: ${error.message}`));
  });
}

function checkHeartbeat() {
  const file = path.join(os.tmpdir(), 'verbatim-worker.heartbeat');
  let modified;
  try {
    modified = statSync(file).mtimeMs;
  } catch {
    return `no heartbeat at ${file}: the worker has not started, or it stopped`;
  }
  const age = Date.now() - modified;
  return age <= HEARTBEAT_MAX_AGE_MS ? true : `the worker's last heartbeat is ${Math.round(age / 1000)} s old`;
}

async function checkWorker() {
  const heartbeat = checkHeartbeat();
  return heartbeat === true ? checkTemporal() : heartbeat;
}

const mode = process.argv[2] || detectMode();
const checks = { api: checkApi, worker: checkWorker, none: () => Promise.resolve(true) };
if (!Object.hasOwn(checks, mode)) {
  process.stderr.write('usage: healthcheck.sh [api|worker]\n');
  process.exit(1);
}
const result = await checks[mode]();
if (result !== true) process.stderr.write(`unhealthy: ${result}\n`);
process.exit(result === true ? 0 : 1);
JS
