import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeframeReport } from '../../domain/codeframe-file.js';
import { codeframeProgressOf } from '../helpers/fake-codeframes.js';
import type { FakeApi } from './helpers.js';
import { EXAMPLE, createFakeApi, filesUnder, jobForm, post } from './helpers.js';

/**
 * `/codeframes` on the in-memory services: what the routes take and refuse, what they answer for each
 * state of a draft, and the token. test/api/codeframe-drafts.test.ts drafts for real on a dev server.
 */

let api: FakeApi;
beforeAll(async () => {
  api = await createFakeApi();
});
afterAll(async () => {
  await api?.close();
});

const example = (fields: Record<string, string | undefined> = {}) =>
  jobForm({ bytes: EXAMPLE, name: 'customer-survey.xlsx' }, { column: 'E2', ...fields });

interface Problem {
  status: number;
  code: string;
  detail: string;
  field?: string;
  available?: string[];
  jobStatus?: string;
}

async function problemOf(response: Response): Promise<Problem> {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await response.json()) as Problem;
}

describe('POST /codeframes', () => {
  it('starts a draft of the uploaded column: 202, a random cf- id, links, the settings asked for', async () => {
    const response = await api.request(
      '/codeframes',
      post(
        example({
          sheet: 'Responses',
          maxCodes: '12',
          minShare: '0.02',
          readCap: '500',
          readTokens: '50000',
          measureSample: '100',
          seed: '7',
          concurrency: '3',
        }),
      ),
    );
    expect(response.status).toBe(202);
    const body = (await response.json()) as { codeframeId: string; status: string; links: object };
    const id = body.codeframeId;
    expect(id).toMatch(/^cf-[A-Za-z0-9]{16}$/);
    expect(response.headers.get('location')).toBe(`/codeframes/${id}`);
    expect(body).toEqual({
      codeframeId: id,
      status: 'RUNNING',
      links: {
        self: `/codeframes/${id}`,
        result: `/codeframes/${id}/result`,
        cancel: `/codeframes/${id}/cancel`,
      },
    });
    const asked = api.codeframes.requests.at(-1);
    expect(asked).toMatchObject({
      codeframeId: id,
      fileName: 'customer-survey.xlsx',
      column: 'E2',
      sheet: 'Responses',
      settings: {
        maxCodes: 12,
        minShare: 0.02,
        readCap: 500,
        readTokens: 50_000,
        measureSample: 100,
        seed: 7,
      },
      options: { maxWorkers: 3 },
      idFrom: 'random',
    });
    // The upload sits in the draft's own folder, under its id.
    expect(await filesUnder(api.store.dir(id))).toEqual(['codeframe.json', 'input.xlsx']);
  });

  it.each([
    ['maxCodes', { maxCodes: '0' }, 'out_of_range', /maxCodes="0"/],
    ['maxCodes', { maxCodes: '7.5' }, 'out_of_range', /whole number/],
    ['minShare', { minShare: '0.9' }, 'out_of_range', /minShare="0.9"/],
    [
      'readTokens',
      { readTokens: '500' },
      'out_of_range',
      /readTokens="500": must be a whole number from 10000/,
    ],
    ['readCap', { readCap: '10' }, 'out_of_range', /readCap="10": must be a whole number from 20 to 20000/],
    ['seed', { seed: '-1' }, 'out_of_range', /seed="-1"/],
    ['readCap', { readCap: '1e3' }, 'out_of_range', /readCap="1e3"/],
    ['maxCodes', { maxCodes: '0x10' }, 'out_of_range', /maxCodes="0x10"/],
    ['concurrency', { concurrency: 'many' }, 'out_of_range', /concurrency="many"/],
    ['column', { column: '' }, 'invalid_field', /no column given/],
  ])('refuses a bad %s with a 400 naming it (%j)', async (field, fields, code, detail) => {
    const before = await filesUnder(api.store.root);
    const response = await api.request('/codeframes', post(example(fields)));
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({ status: 400, field, code });
    expect(problem.detail).toMatch(detail);
    expect(await filesUnder(api.store.root)).toEqual(before);
  });

  it('refuses a form with no file, and a column the sheet does not have (422, listing those it has)', async () => {
    const noFile = await api.request('/codeframes', post(jobForm(undefined, { column: 'E2' })));
    expect(noFile.status).toBe(400);
    expect(await problemOf(noFile)).toMatchObject({ field: 'file', code: 'file_missing' });

    const before = await filesUnder(api.store.root);
    const wrong = await api.request('/codeframes', post(example({ column: 'Q99 nowhere' })));
    expect(wrong.status).toBe(422);
    const problem = await problemOf(wrong);
    expect(problem).toMatchObject({ code: 'column_not_found', field: 'column' });
    expect(problem.available).toContain('E "E2"');
    // Nothing is kept of a refused upload.
    expect(await filesUnder(api.store.root)).toEqual(before);
  });
});

describe("POST /codeframes from a job's upload (jobId)", () => {
  /** A job started on the example through the API: its upload is what the drafts below read. */
  let jobId: string;
  beforeAll(async () => {
    const started = await api.request(
      '/jobs',
      post(jobForm({ bytes: EXAMPLE, name: 'customer-survey.xlsx' }, { column: 'E2', categories: 'A\nB' })),
    );
    expect(started.status).toBe(202);
    ({ jobId } = (await started.json()) as { jobId: string });
  });

  const json = (body: unknown): RequestInit => ({
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });

  it("drafts from the job's stored file, named as the job's upload, as a form field or as JSON", async () => {
    const asForm = await api.request('/codeframes', post(jobForm(undefined, { jobId, column: 'E2' })));
    expect(asForm.status).toBe(202);
    const fromForm = ((await asForm.json()) as { codeframeId: string }).codeframeId;
    expect(asForm.headers.get('location')).toBe(`/codeframes/${fromForm}`);
    expect(api.codeframes.requests.at(-1)).toMatchObject({
      codeframeId: fromForm,
      fileName: 'customer-survey.xlsx',
      column: 'E2',
      idFrom: 'random',
    });
    // The draft keeps its own copy: the job can be deleted while it runs.
    expect(await filesUnder(api.store.dir(fromForm))).toEqual(['codeframe.json', 'input.xlsx']);
    const copy = await fs.readFile(path.join(api.store.dir(fromForm), 'input.xlsx'));
    expect(new Uint8Array(copy)).toEqual(new Uint8Array(EXAMPLE));

    // JSON: numbers as numbers (or as text), the same checks.
    const asJson = await api.request(
      '/codeframes',
      json({ jobId, column: 'E2', sheet: 'Responses', maxCodes: 12, minShare: '0.02', temperature: 0 }),
    );
    expect(asJson.status).toBe(202);
    const fromJson = ((await asJson.json()) as { codeframeId: string }).codeframeId;
    expect(fromJson).not.toBe(fromForm);
    expect(api.codeframes.requests.at(-1)).toMatchObject({
      codeframeId: fromJson,
      fileName: 'customer-survey.xlsx',
      sheet: 'Responses',
      settings: { maxCodes: 12, minShare: 0.02 },
      options: { temperature: 0 },
    });
    // The job's sheet and column are checked as an upload's are.
    const wrong = await api.request('/codeframes', json({ jobId, column: 'Q99 nowhere' }));
    expect(wrong.status).toBe(422);
    expect(await problemOf(wrong)).toMatchObject({ code: 'column_not_found', field: 'column' });
  });

  it.each([
    ['an unknown id', 'job-nosuchjob0000000'],
    ["a draft's id (a draft is not a job)", 'draft'],
    ['a path', '../jobs'],
  ])('answers 404 naming the jobId for %s, as a form or as JSON, and keeps nothing', async (_, id) => {
    if (id === 'draft') {
      const draft = await api.request('/codeframes', post(example()));
      id = ((await draft.json()) as { codeframeId: string }).codeframeId;
    }
    const before = await filesUnder(api.store.root);
    for (const init of [
      post(jobForm(undefined, { jobId: id, column: 'E2' })),
      json({ jobId: id, column: 'E2' }),
    ]) {
      const response = await api.request('/codeframes', init);
      expect(response.status).toBe(404);
      const problem = await problemOf(response);
      expect(problem).toMatchObject({ status: 404, code: 'job_not_found', field: 'jobId' });
      expect(problem.detail).toContain(JSON.stringify(id));
    }
    expect(await filesUnder(api.store.root)).toEqual(before);
  });

  it('refuses both a file and a jobId, and JSON with neither, a file or that does not parse (400)', async () => {
    const before = await filesUnder(api.store.root);
    const both = await api.request('/codeframes', post(example({ jobId })));
    expect(both.status).toBe(400);
    const problem = await problemOf(both);
    expect(problem).toMatchObject({ code: 'conflicting_fields', field: 'jobId' });
    expect(problem.detail).toMatch(/both a file and a jobId/);

    // A form with neither still names the file, and now says a jobId would do.
    const neither = await api.request('/codeframes', post(jobForm(undefined, { column: 'E2' })));
    expect(await problemOf(neither)).toMatchObject({ status: 400, code: 'file_missing', field: 'file' });

    for (const [body, field, detail] of [
      [{ column: 'E2' }, 'jobId', /no jobId given/],
      [{ jobId, column: 'E2', file: 'survey.xlsx' }, 'file', /JSON carries no file/],
      [{ jobId, column: 'E2', maxCodes: 0 }, 'maxCodes', /maxCodes="0"/],
      [{ jobId }, 'column', /no column given/],
    ] as const) {
      const response = await api.request('/codeframes', json(body));
      expect(response.status, JSON.stringify(body)).toBe(400);
      const refused = await problemOf(response);
      expect(refused.field, JSON.stringify(body)).toBe(field);
      expect(refused.detail).toMatch(detail);
    }
    const broken = await api.request('/codeframes', {
      method: 'POST',
      body: '{"jobId": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(await problemOf(broken)).toMatchObject({ status: 400, code: 'invalid_body', field: 'body' });
    expect(await filesUnder(api.store.root)).toEqual(before);
  });
});

describe('a draft through GET /codeframes/:id, /result and /cancel', () => {
  it('answers 404 naming the id for a draft that does not exist, whatever the route', async () => {
    for (const [pathname, init] of [
      ['/codeframes/cf-nosuchdraft', undefined],
      ['/codeframes/cf-nosuchdraft/result', undefined],
      ['/codeframes/cf-nosuchdraft/cancel', { method: 'POST' }],
      ['/codeframes/..%2F..%2Fetc', undefined],
    ] as const) {
      const response = await api.request(pathname, init);
      expect(response.status, pathname).toBe(404);
      expect(await problemOf(response), pathname).toMatchObject({ code: 'codeframe_not_found', field: 'id' });
    }
  });

  it('shows a running draft’s progress, has no result yet (409), and cancels it once', async () => {
    const id = 'cf-running0000000001';
    const progress = codeframeProgressOf(id, {
      chunks: { total: 6, done: 2, failed: 0, inFlight: 2 },
      themes: 31,
    });
    api.codeframes.put({ codeframeId: id, fileName: 'survey.xlsx', column: 'E2', progress });
    const view = (await (await api.request(`/codeframes/${id}`)).json()) as Record<string, unknown>;
    expect(view).toMatchObject({
      codeframeId: id,
      status: 'RUNNING',
      progress,
      codeframe: null,
      closedAt: null,
    });

    const early = await api.request(`/codeframes/${id}/result`);
    expect(early.status).toBe(409);
    expect(await problemOf(early)).toMatchObject({
      code: 'codeframe_not_finished',
      field: 'id',
      jobStatus: 'RUNNING',
    });
    const badFormat = await api.request(`/codeframes/${id}/result?format=csv`);
    expect(badFormat.status).toBe(400);
    expect(await problemOf(badFormat)).toMatchObject({ field: 'format' });

    const cancel = await api.request(`/codeframes/${id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(202);
    expect(await cancel.json()).toMatchObject({ codeframeId: id, status: 'CANCELLING' });
    expect(api.codeframes.cancelled).toEqual([id]);
    const again = await api.request(`/codeframes/${id}/cancel`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(await problemOf(again)).toMatchObject({ code: 'codeframe_not_running', jobStatus: 'CANCELLED' });
    expect(api.codeframes.cancelled).toEqual([id]);
  });

  it('gives a completed draft’s codeframe in its view and its files as downloads named after the upload', async () => {
    const id = 'cf-done0000000000001';
    const codeframe = { codeframeId: id, fileName: 'survey.xlsx', codes: [] } as unknown as CodeframeReport;
    api.codeframes.put({ codeframeId: id, status: 'COMPLETED', closedAt: new Date(), codeframe });
    const text =
      '# DRAFT codeframe\n\nDelivery: late parcels\n\nOther: the answer fits none of the codes above\n';
    api.codeframes.putFile(id, 'txt', { fileName: 'survey.xlsx', bytes: new TextEncoder().encode(text) });
    api.codeframes.putFile(id, 'xlsx', { fileName: 'survey.xlsx', bytes: new Uint8Array([80, 75, 3, 4]) });

    const view = (await (await api.request(`/codeframes/${id}`)).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ status: 'COMPLETED', codeframe });

    const txt = await api.request(`/codeframes/${id}/result`);
    expect(txt.status).toBe(200);
    expect(txt.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(txt.headers.get('content-disposition')).toContain('filename="survey.categories.txt"');
    expect(await txt.text()).toBe(text);

    const xlsx = await api.request(`/codeframes/${id}/result?format=xlsx`);
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get('content-type')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(xlsx.headers.get('content-disposition')).toContain('filename="survey.categories.xlsx"');
    expect(new Uint8Array(await xlsx.arrayBuffer())).toEqual(new Uint8Array([80, 75, 3, 4]));
  });

  it('says why a failed draft failed, and that it has no codeframe', async () => {
    const id = 'cf-failed00000000001';
    api.codeframes.put({
      codeframeId: id,
      status: 'FAILED',
      closedAt: new Date(),
      error: 'No answers to read',
    });
    expect(await (await api.request(`/codeframes/${id}`)).json()).toMatchObject({
      status: 'FAILED',
      error: 'No answers to read',
    });
    const result = await api.request(`/codeframes/${id}/result?format=xlsx`);
    expect(result.status).toBe(409);
    expect((await problemOf(result)).detail).toContain('failed');
  });
});

describe('/codeframes behind API_TOKEN', () => {
  it('refuses every route without the token, before reading the upload', async () => {
    const locked = api.makeApp({ apiToken: 'codeframes-token' });
    const before = await filesUnder(path.join(api.dataDir, 'jobs'));
    for (const [pathname, init] of [
      ['/codeframes', post(example())],
      ['/codeframes/cf-done0000000000001', undefined],
      ['/codeframes/cf-done0000000000001/result', undefined],
      ['/codeframes/cf-done0000000000001/cancel', { method: 'POST' }],
    ] as const) {
      const response = await locked.request(pathname, init);
      expect(response.status, pathname).toBe(401);
      expect(await problemOf(response), pathname).toMatchObject({ code: 'unauthorized' });
    }
    expect(await filesUnder(path.join(api.dataDir, 'jobs'))).toEqual(before);
    const allowed = await locked.request('/codeframes/cf-done0000000000001', {
      headers: { authorization: 'Bearer codeframes-token' },
    });
    expect(allowed.status).toBe(200);
  });
});
