import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeApi } from './helpers.js';
import { createFakeApi } from './helpers.js';

/**
 * `/openapi.json` is generated from the routes the app registers (api/routes.ts): this walks what the app
 * really serves (`app.routes`) and the document both ways. service.test.ts checks the documented statuses
 * and bodies against real answers.
 */

let api: FakeApi;
beforeAll(async () => {
  api = await createFakeApi();
});
afterAll(async () => {
  await api?.close();
});

interface Operation {
  readonly responses: Record<string, { description?: string; content?: Record<string, unknown> }>;
  readonly parameters?: Array<{ name: string; in: string }>;
  readonly requestBody?: unknown;
  readonly security?: unknown[];
}
type Document = { paths: Record<string, Record<string, Operation>> };

async function document(): Promise<Document> {
  const response = await api.request('/openapi.json');
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

/** The web page and what it loads (each .js and .css under api/public): served beside the API, not part of it. */
const PUBLIC_DIR = path.resolve(import.meta.dirname, '../../api/public');
const PAGE = [
  'GET /',
  'GET /favicon.ico',
  ...readdirSync(PUBLIC_DIR, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(js|css)$/.test(e.name))
    .map((e) => path.relative(PUBLIC_DIR, path.join(e.parentPath, e.name)).split(path.sep))
    .filter((parts) => !parts.some((part) => part.startsWith('.')))
    .map((parts) => `GET /${parts.join('/')}`),
];

/** `GET /jobs/{id}`: each route the app serves (middleware aside), as the document names it. */
function served(): string[] {
  const routes = api.app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => `${r.method} ${(r.path.replace(/\/$/, '') || '/').replace(/:(\w+)/g, '{$1}')}`);
  return [...new Set(routes)].sort();
}

function operations(doc: Document): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, byMethod]) => Object.keys(byMethod).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

function operation(doc: Document, name: string): Operation {
  const [method = '', path = ''] = name.split(' ');
  const found = doc.paths[path]?.[method.toLowerCase()];
  if (!found) throw new Error(`${name} is not documented`);
  return found;
}

describe('the generated document', () => {
  it('documents every route the app serves but the web page, and only those', async () => {
    const doc = await document();
    expect(operations(doc)).toEqual(served().filter((route) => !PAGE.includes(route)));
    // The page is the rest, and nothing of it is documented as API.
    expect(served().filter((route) => PAGE.includes(route))).toEqual([...PAGE].sort());
  });

  it('gives each documented route its responses: a described body for each status, the errors as problems', async () => {
    const doc = await document();
    for (const name of operations(doc)) {
      const { responses, parameters = [], requestBody, security } = operation(doc, name);
      const statuses = Object.keys(responses);
      expect(
        statuses.some((s) => s.startsWith('2')),
        name,
      ).toBe(true);
      for (const [status, response] of Object.entries(responses)) {
        expect(response.description, `${name} ${status}`).toBeTruthy();
        expect(Object.keys(response.content ?? {}).length, `${name} ${status}`).toBeGreaterThan(0);
        if (Number(status) >= 400) {
          const types = Object.keys(response.content ?? {});
          // /healthz answers 503 with its own small body; every other error is a problem.
          if (name !== 'GET /healthz')
            expect(types, `${name} ${status}`).toEqual(['application/problem+json']);
        }
      }
      // Refused without the token unless public; an unknown job is a 404; what is validated can be a 400.
      expect(statuses.includes('401'), name).toBe(security === undefined);
      if (name.includes('{id}')) {
        expect(
          parameters.some((p) => p.name === 'id' && p.in === 'path'),
          name,
        ).toBe(true);
        expect(statuses, name).toContain('404');
      }
      if (requestBody || parameters.some((p) => p.in === 'query')) expect(statuses, name).toContain('400');
    }
  });
});
