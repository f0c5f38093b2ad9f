import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes.js';
import type { WorkerProcess } from '../helpers/processes.js';
import { startVerbatim, waitFor } from '../helpers/processes.js';
import { startTestServer, temporalCliPath } from '../helpers/temporal.js';

let dataDir: string;
const processes: WorkerProcess[] = [];

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-serve-'));
});
afterAll(async () => {
  for (const p of processes) await p.kill('SIGKILL');
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('verbatim serve, on its own', () => {
  it('starts the embedded Temporal server with its UI and search attributes, a worker and the API, and says where', async () => {
    const serve = startVerbatim(['serve'], {
      TEMPORAL_ADDRESS: '',
      TEMPORAL_CLI_PATH: await temporalCliPath(),
      DATA_DIR: dataDir,
      PORT: '0',
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
      LOG_LEVEL: 'info',
    });
    processes.push(serve);
    const printed = await waitFor(
      () => {
        const out = serve.output();
        const page = /Web page:\s+(http:\/\/\S+?)\/?\s/.exec(out)?.[1];
        const ui = /Temporal UI:\s+(http:\/\/\S+)/.exec(out)?.[1];
        const temporal = /Temporal:\s+(\S+:\d+) \(namespace default, task queue verbatim\)/.exec(out)?.[1];
        return page && ui && temporal ? { page, ui, temporal } : undefined;
      },
      120_000,
      'verbatim serve to print its URLs',
    );
    expect((await fetch(`${printed.page}/healthz`)).status).toBe(200);
    expect((await fetch(`${printed.page}/`)).headers.get('content-type')).toMatch(/text\/html/);
    expect((await fetch(printed.ui)).status).toBe(200);

    // The dev server registered the search attributes as it started: verbatim had none left to add.
    const connection = await Connection.connect({ address: printed.temporal });
    try {
      const client = new Client({ connection });
      const { customAttributes } = await client.connection.operatorService.listSearchAttributes({
        namespace: 'default',
      });
      for (const a of Object.values(SEARCH_ATTRIBUTES))
        expect(customAttributes?.[a.name], a.name).toBeDefined();
    } finally {
      await connection.close();
    }
    expect(serve.output()).not.toMatch(/registered search attributes/);
    expect(serve.output()).toMatch(/SIMULATED/); // no key: the built-in simulator, said loudly

    expect(await serve.kill('SIGTERM')).toBe(0);
  }, 180_000);
});

describe('connecting to a configured cluster', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await startTestServer();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  async function failedStart(extra: Record<string, string>): Promise<string> {
    const worker = startVerbatim(['worker'], {
      TEMPORAL_ADDRESS: env.address,
      DATA_DIR: dataDir,
      ...extra,
    });
    processes.push(worker);
    expect(await worker.exited).toBe(1);
    return worker.output();
  }

  it('stops with the variable to fix when the namespace does not exist', async () => {
    const out = await failedStart({ TEMPORAL_NAMESPACE: 'no-such-namespace' });
    expect(out).toContain(
      `TEMPORAL_NAMESPACE: namespace "no-such-namespace" does not exist on ${env.address}`,
    );
    expect(out).not.toMatch(/search attributes unavailable/);
  }, 60_000);
});
