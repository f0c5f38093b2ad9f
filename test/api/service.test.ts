import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiHarness } from './helpers.js';
import { createApiHarness } from './helpers.js';

let api: ApiHarness;

beforeAll(async () => {
  api = await createApiHarness({ workers: false });
});
afterAll(async () => {
  await api?.close();
});

describe('GET /healthz', () => {
  it('is ok when Temporal answers', async () => {
    const response = await api.request('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', temporal: 'ok' });
  });

  it('is 503 when Temporal does not', async () => {
    // A connection to the same server, closed: every call fails.
    const connection = await Connection.connect({ address: api.h.env.address });
    const app = api.makeApp({ client: new Client({ connection }) });
    expect((await app.request('/healthz')).status).toBe(200);
    await connection.close();
    const response = await app.request('/healthz');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'unavailable', temporal: 'unreachable' });
  });
});

describe('GET /openapi.json', () => {
  interface Operation {
    summary: string;
    parameters?: Array<{ name: string; in: string }>;
    responses: Record<string, unknown>;
    security?: unknown[];
  }
  type Document = {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    security: unknown[];
  };

  async function document(): Promise<Document> {
    const response = await api.request('/openapi.json');
    expect(response.status).toBe(200);
    return (await response.json()) as Document;
  }

  it('tells forms the server defaults and limits, and no secret', async () => {
    const response = await api.request('/settings');
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      defaults: Record<string, unknown>;
      limits: Record<string, unknown>;
    };
    expect(body.defaults).toMatchObject({
      batchSize: 10,
      concurrency: 5,
      parallel: true,
      model: 'gpt-4o-mini',
    });
    expect(body.limits).toMatchObject({ maxBatchSize: 200, maxConcurrency: 200 });
    expect(JSON.stringify(body)).not.toMatch(/key|token|secret/i);
  });

  it('describes every API route of the app, and no route the app does not have', async () => {
    const doc = await document();
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const served = new Set(
      api.app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method} ${(r.path.replace(/\/$/, '') || '/').replace(/:(\w+)/g, '{$1}')}`)
        // The web page and its files are not API.
        .filter((route) => /^\w+ \/(jobs|healthz|settings)/.test(route)),
    );
    expect(documented.sort()).toEqual([...served].sort());
    expect(served.size).toBe(10);
  });

  it('names the path parameter, the errors as problems, and the bearer scheme (not needed for /healthz)', async () => {
    const doc = await document();
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(operation.summary, `${method} ${path}`).toBeTruthy();
        if (path.includes('{id}')) {
          expect(operation.parameters?.some((p) => p.name === 'id' && p.in === 'path')).toBe(true);
          expect(operation.responses, `${method} ${path}`).toHaveProperty('404');
        }
      }
    }
    expect(doc.components.schemas).toHaveProperty('Problem');
    expect(doc.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }) as unknown,
    });
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/healthz']?.get?.security).toEqual([]);
    expect(Object.keys(doc.paths['/jobs']?.post?.responses ?? {}).sort()).toEqual([
      '202',
      '400',
      '401',
      '413',
      '422',
    ]);
  });
});
