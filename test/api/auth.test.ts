import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { App } from '../../api/app.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeApi } from './helpers.js';
import { EXAMPLE, createFakeApi, exampleJob, filesUnder, jobForm, patch, post } from './helpers.js';

let api: FakeApi;
let locked: App;
const TOKEN = 'correct-horse-battery-staple';

beforeAll(async () => {
  // No route here needs a job to run: the job service in memory, no Temporal server.
  api = await createFakeApi();
  locked = api.makeApp({ apiToken: TOKEN });
});
afterAll(async () => {
  await api?.close();
});

const JOB = 'job-AAAAAAAAAAAAAAAA';
const DRAFT = 'cf-AAAAAAAAAAAAAAAA';

/** Every API route, as a request with a body it would accept. */
const ROUTES: Array<[string, () => [string, RequestInit]]> = [
  ['GET /openapi.json', () => ['/openapi.json', {}]],
  ['GET /settings', () => ['/settings', {}]],
  ['POST /jobs', () => ['/jobs', post(exampleJob())]],
  ['POST /jobs/preview', () => ['/jobs/preview', post(jobForm({ bytes: EXAMPLE, name: 'survey.xlsx' }))]],
  ['POST /jobs/estimate', () => ['/jobs/estimate', post(exampleJob())]],
  ['GET /jobs', () => ['/jobs', {}]],
  ['GET /jobs/:id', () => [`/jobs/${JOB}`, {}]],
  ['GET /jobs/:id/events', () => [`/jobs/${JOB}/events`, {}]],
  ['GET /jobs/:id/result', () => [`/jobs/${JOB}/result`, {}]],
  ['GET /jobs/:id/summary', () => [`/jobs/${JOB}/summary`, {}]],
  ['GET /jobs/:id/tables', () => [`/jobs/${JOB}/tables?by=Country`, {}]],
  ['PATCH /jobs/:id', () => [`/jobs/${JOB}`, patch({ paused: true })]],
  ['POST /jobs/:id/cancel', () => [`/jobs/${JOB}/cancel`, { method: 'POST' }]],
  ['POST /jobs/:id/retry', () => [`/jobs/${JOB}/retry`, { method: 'POST' }]],
  ['DELETE /jobs/:id', () => [`/jobs/${JOB}`, { method: 'DELETE' }]],
  [
    'POST /codeframes',
    () => ['/codeframes', post(jobForm({ bytes: EXAMPLE, name: 'survey.xlsx' }, { column: 'E2' }))],
  ],
  ['GET /codeframes/:id', () => [`/codeframes/${DRAFT}`, {}]],
  ['GET /codeframes/:id/result', () => [`/codeframes/${DRAFT}/result`, {}]],
  ['POST /codeframes/:id/cancel', () => [`/codeframes/${DRAFT}/cancel`, { method: 'POST' }]],
];
/** The web page's modules and style sheet (each .js and .css under api/public) are public like the page. */
const ASSETS = readdirSync(new URL('../../api/public/', import.meta.url), {
  recursive: true,
  encoding: 'utf8',
})
  .filter((name) => /\.(js|css)$/.test(name))
  .map((name) => `/${name.split(path.sep).join('/')}`);
const PUBLIC = ['GET /', 'GET /healthz', 'GET /favicon.ico', ...ASSETS.map((a) => `GET ${a}`)];

function withAuthorization(init: RequestInit, value: string): RequestInit {
  return {
    ...init,
    headers: { ...(init.headers as Record<string, string> | undefined), authorization: value },
  };
}

describe('with API_TOKEN set', () => {
  it('these are all the routes there are: each is either tested for its token or public', () => {
    const routes = new Set(
      locked.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method} ${r.path.replace(/\/$/, '') || '/'}`),
    );
    expect([...routes].sort()).toEqual([...ROUTES.map(([name]) => name), ...PUBLIC].sort());
  });

  describe.each(ROUTES)('%s', (_, request) => {
    it('is refused without a token, with a problem and WWW-Authenticate', async () => {
      const [pathname, init] = request();
      const response = await locked.request(pathname, init);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="verbatim"');
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({
        status: 401,
        code: 'unauthorized',
        field: 'authorization',
        detail: 'Send Authorization: Bearer <API_TOKEN>.',
      });
    });

    it('is refused with a wrong token or another scheme', async () => {
      for (const value of [
        'Bearer wrong',
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.toUpperCase()}`,
        `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`,
        TOKEN,
        'Bearer ',
      ]) {
        const [pathname, init] = request();
        const response = await locked.request(pathname, withAuthorization(init, value));
        expect(response.status, value).toBe(401);
        expect(((await response.json()) as { code: string }).code, value).toBe('unauthorized');
      }
    });

    it('is let through with the token', async () => {
      const [pathname, init] = request();
      const response = await locked.request(pathname, withAuthorization(init, `Bearer ${TOKEN}`));
      expect(response.status).not.toBe(401);
      expect(response.status).toBeLessThan(500);
      await response.body?.cancel();
    });
  });

  it('accepts the scheme in any case and spaces around the token', async () => {
    for (const value of [`bearer ${TOKEN}`, `BEARER   ${TOKEN}  `]) {
      const response = await locked.request('/jobs', { headers: { authorization: value } });
      expect(response.status, value).toBe(200);
    }
  });

  it('starts nothing and keeps no upload for a request without the token', async () => {
    const before = await filesUnder(api.dataDir);
    expect((await locked.request('/jobs', post(exampleJob()))).status).toBe(401);
    expect((await locked.request('/jobs/preview', post(exampleJob()))).status).toBe(401);
    expect(await filesUnder(api.dataDir)).toEqual(before);
  });

  it('leaves /healthz and the web page (which holds no data) public', async () => {
    const health = await locked.request('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', temporal: 'ok' });
    const page = await locked.request('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await locked.request('/favicon.ico')).status).toBe(204);
    for (const asset of ASSETS) expect((await locked.request(asset)).status, asset).toBe(200);
  });

  it('names the request in the refusal, and a wrong token as such in WWW-Authenticate', async () => {
    const missing = await locked.request('/jobs', { headers: { 'x-request-id': 'req-42' } });
    expect(missing.headers.get('x-request-id')).toBe('req-42');
    expect(await missing.json()).toMatchObject({ code: 'unauthorized', requestId: 'req-42' });
    const wrong = await locked.request('/jobs', { headers: { authorization: 'Bearer wrong' } });
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="verbatim", error="invalid_token"');
    expect(await wrong.json()).toMatchObject({ detail: 'The bearer token is not valid.' });
  });

  it('refuses, at start, a token no bearer header can carry', () => {
    expect(() => api.makeApp({ apiToken: 'two words' })).toThrow(/API_TOKEN may hold only/);
  });

  it('does not treat look-alike paths as public', async () => {
    for (const pathname of ['/healthz/', '/healthz/../jobs', '/index.html/../jobs', '//jobs']) {
      const response = await locked.request(pathname);
      expect(response.status, pathname).toBe(401);
    }
  });
});

describe('without API_TOKEN', () => {
  it('serves every route without a token', async () => {
    for (const [name, request] of ROUTES) {
      const [pathname, init] = request();
      const response = await api.request(pathname, init);
      expect(response.status, name).not.toBe(401);
      expect(response.status, name).toBeLessThan(500);
      await response.body?.cancel();
    }
  });
});
