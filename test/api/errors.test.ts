import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeZip } from '../sheets/fixtures.js';
import { progressOf } from '../helpers/fake-jobs.js';
import type { FakeApi } from './helpers.js';
import {
  EXAMPLE,
  EXAMPLE_CATEGORIES,
  createFakeApi,
  exampleJob,
  filesUnder,
  getJob,
  jobForm,
  patch,
  post,
} from './helpers.js';

let api: FakeApi;

beforeAll(async () => {
  // Bad input never reaches a workflow: the job service in memory (it stores and checks uploads as the real
  // one does), no Temporal server. service.test.ts checks the real service starts no workflow for it either.
  api = await createFakeApi();
});
afterAll(async () => {
  await api?.close();
});

const GiB = 2 ** 30;
const EXAMPLE_COLUMNS = ['A "ID"', 'B "Date"', 'C "Country"', 'D "D1"', 'E "E2"', 'F "Age"'];

/** An .xlsx whose directory says it unpacks to 3 GiB. */
const CLAIMS_3_GIB = makeZip([
  { name: 'xl/worksheets/sheet1.xml', data: Buffer.from('<worksheet/>'), declaredSize: 3 * GiB },
]);
/** An .xlsx whose one part really unpacks from a few KiB to 8 MiB of spaces. */
const PACKED_TOO_WELL = makeZip([
  { name: 'xl/worksheets/sheet1.xml', data: Buffer.alloc(8 * 2 ** 20, 0x20) },
]);

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  field?: string;
  requestId?: string;
  available?: string[];
  errors?: { field: string; code: string; detail: string }[];
}

/** A JSON problem body with the given status, whose fixed fields are all there. */
async function problem(response: Response, status: number): Promise<ProblemBody> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await response.json()) as ProblemBody;
  expect(body).toMatchObject({ status, type: expect.stringContaining(body.code) as unknown });
  expect(body.title.length).toBeGreaterThan(0);
  expect(body.detail.length).toBeGreaterThan(0);
  return body;
}

/** Nothing kept: no job folder, no upload left behind. */
async function expectNothingKept(before: string[]): Promise<void> {
  expect(await filesUnder(api.dataDir)).toEqual(before);
}

const survey = (name: string, bytes: Uint8Array = EXAMPLE) => ({ bytes, name });
const fields = { column: 'E2', categories: EXAMPLE_CATEGORIES };

interface Case {
  readonly name: string;
  readonly init: () => RequestInit;
  readonly status: number;
  readonly expected: Omit<Partial<ProblemBody>, 'detail'> & { detail?: string | RegExp };
}

const form =
  (...args: Parameters<typeof jobForm>) =>
  () =>
    post(jobForm(...args));

/** A multipart body that cannot be parsed: no boundary, or bytes that are not parts at all. */
const brokenForm = (contentType: string) => () => ({
  method: 'POST',
  body: 'garbage, not parts',
  headers: { 'content-type': contentType },
});

const brokenFormCases: Case[] = [
  {
    name: 'a multipart body without its boundary',
    init: brokenForm('multipart/form-data'),
    status: 400,
    expected: { code: 'invalid_body', field: 'body', detail: /not valid multipart\/form-data/ },
  },
  {
    name: 'a multipart body that is not made of parts',
    init: brokenForm('multipart/form-data; boundary=xyz'),
    status: 400,
    expected: { code: 'invalid_body', field: 'body', detail: /not valid multipart\/form-data/ },
  },
];

const startCases: Case[] = [
  ...brokenFormCases,
  {
    name: 'no file',
    init: form(undefined, fields),
    status: 400,
    expected: { code: 'file_missing', field: 'file', detail: /no file uploaded/ },
  },
  {
    name: 'the file field sent as text',
    init: () => {
      const body = jobForm(undefined, fields);
      body.append('file', 'customer-survey.xlsx');
      return post(body);
    },
    status: 400,
    expected: { code: 'file_missing', field: 'file' },
  },
  {
    // JSON names a job's stored upload: one without a jobId has no file to code.
    name: 'a JSON body with no jobId',
    init: () => ({
      method: 'POST',
      body: JSON.stringify(fields),
      headers: { 'content-type': 'application/json' },
    }),
    status: 400,
    expected: { field: 'jobId', detail: /^no jobId given/ },
  },
  {
    name: 'an empty file',
    init: form(survey('customer-survey.xlsx', new Uint8Array()), fields),
    status: 400,
    expected: {
      code: 'file_empty',
      field: 'file',
      detail: 'the uploaded file "customer-survey.xlsx" is empty',
    },
  },
  {
    name: 'not a spreadsheet (.pdf)',
    init: form(survey('report.pdf', Buffer.from('%PDF-1.7\n')), fields),
    status: 400,
    expected: {
      code: 'invalid_workbook',
      field: 'file',
      detail: 'report.pdf cannot be read as a spreadsheet: not a spreadsheet (.pdf): expected .xlsx or .csv',
    },
  },
  {
    name: 'a legacy .xls file',
    init: form(survey('old.xls', Buffer.from([0xd0, 0xcf, 0x11, 0xe0])), fields),
    status: 400,
    expected: { code: 'invalid_workbook', field: 'file', detail: /save it as \.xlsx/ },
  },
  {
    name: 'text named .xlsx',
    init: form(survey('survey.xlsx', Buffer.from('ID,Answer\n1,cheap\n')), fields),
    status: 400,
    expected: {
      code: 'invalid_workbook',
      field: 'file',
      detail: /^survey\.xlsx cannot be read .*not an \.xlsx file/,
    },
  },
  {
    name: 'a zip bomb: an absurd unpacked size',
    init: form(survey('bomb.xlsx', CLAIMS_3_GIB), fields),
    status: 400,
    expected: { code: 'invalid_workbook', field: 'file', detail: /it would unpack to 3\.0 GiB/ },
  },
  {
    name: 'a zip bomb: a part packed far better than sheets pack',
    init: form(survey('bomb.xlsx', PACKED_TOO_WELL), fields),
    status: 400,
    expected: { code: 'invalid_workbook', field: 'file', detail: /refused as a possible zip bomb/ },
  },
  {
    name: 'a sheet that does not exist',
    init: form(survey('customer-survey.xlsx'), { ...fields, sheet: 'Answers' }),
    status: 422,
    expected: {
      code: 'sheet_not_found',
      field: 'sheet',
      available: ['Responses', 'Notes'],
      detail: /^Sheet "Answers" not found in customer-survey\.xlsx\. Sheets: "Responses", "Notes"$/,
    },
  },
  {
    name: 'a column that does not exist',
    init: form(survey('customer-survey.xlsx'), { ...fields, column: 'Comments' }),
    status: 422,
    expected: {
      code: 'column_not_found',
      field: 'column',
      available: EXAMPLE_COLUMNS,
      detail: /^Column "Comments" not found in sheet "Responses" of customer-survey\.xlsx\./,
    },
  },
  {
    name: 'a banner column that does not exist',
    init: form(survey('customer-survey.xlsx'), { ...fields, by: ['Country', 'Regoin'] }),
    status: 422,
    expected: {
      code: 'banner_not_found',
      field: 'by',
      available: EXAMPLE_COLUMNS,
      detail:
        /^Banner column "Regoin" \(by\) not found in sheet "Responses" of customer-survey\.xlsx\. .*Columns: A "ID", B "Date", C "Country"/,
    },
  },
  {
    name: 'banner groups that overlap',
    init: form(survey('customer-survey.xlsx'), { ...fields, by: 'D1=0-6:Low,5-10:High' }),
    status: 400,
    expected: {
      code: 'invalid_banner_groups',
      field: 'by',
      detail: /^by: Banner groups "0-6:Low,5-10:High": groups 1 \("0-6:Low"\) and 2 \("5-10:High"\) overlap/,
    },
  },
  {
    name: 'a column letter past the last used column',
    init: form(survey('customer-survey.xlsx'), { ...fields, column: 'Z' }),
    status: 422,
    expected: { code: 'column_not_found', field: 'column', available: EXAMPLE_COLUMNS },
  },
  {
    name: 'no column',
    init: form(survey('customer-survey.xlsx'), { categories: EXAMPLE_CATEGORIES, column: '  ' }),
    status: 400,
    expected: { field: 'column', detail: /^no column given/ },
  },
  {
    name: 'no categories field',
    init: form(survey('customer-survey.xlsx'), { column: 'E2' }),
    status: 400,
    expected: { field: 'categories', detail: /^no categories given/ },
  },
  {
    name: 'categories with no category in them',
    init: form(survey('customer-survey.xlsx'), { column: 'E2', categories: '# just a comment\n\n' }),
    status: 400,
    expected: { code: 'empty_categories', field: 'categories' },
  },
  {
    name: 'duplicate categories',
    init: form(survey('customer-survey.xlsx'), { column: 'E2', categories: 'Price\nDelivery\n price ' }),
    status: 400,
    expected: { code: 'duplicate_categories', field: 'categories', detail: /"price"/i },
  },
  {
    name: 'duplicate categories as a list',
    init: form(survey('customer-survey.xlsx'), { column: 'E2', categories: ['Price', 'PRICE: cost'] }),
    status: 400,
    expected: { code: 'duplicate_categories', field: 'categories' },
  },
  {
    name: 'maxCodes without multi',
    init: form(survey('customer-survey.xlsx'), { column: 'E2', categories: ['Price'], maxCodes: '3' }),
    status: 400,
    expected: { code: 'invalid_field', field: 'maxCodes', detail: /^maxCodes=3: applies only .*multi=true/ },
  },
  {
    name: 'categories as JSON that is not a list of names',
    init: form(survey('customer-survey.xlsx'), { column: 'E2', categories: '[1, 2]' }),
    status: 400,
    expected: { field: 'categories', detail: /array of strings/ },
  },
  ...(
    [
      ['batchSize', '0'],
      ['batchSize', '201'],
      ['batchSize', '2.5'],
      ['batchSize', 'lots'],
      ['concurrency', '0'],
      ['concurrency', '201'],
      ['concurrency', 'many'],
      ['temperature', '2.5'],
      ['model', 'gpt 4; rm -rf'],
      ['parallel', 'maybe'],
      ['multi', 'maybe'],
      ['maxCodes', '0'],
      ['maxCodes', '101'],
      ['maxCodes', 'two'],
    ] as const
  ).map(([field, value]): Case => ({
    name: `${field}=${value}`,
    init: form(survey('customer-survey.xlsx'), { ...fields, [field]: value }),
    status: 400,
    expected: {
      code: 'out_of_range',
      field,
      detail: new RegExp(`^${field}="${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}": `),
    },
  })),
];

describe('POST /jobs refuses bad input with a problem naming the field, and starts nothing', () => {
  it.each(startCases)('$name → $status', async ({ init, status, expected }) => {
    const before = await filesUnder(api.dataDir);
    const body = await problem(await api.request('/jobs', init()), status);
    const { detail, ...rest } = expected;
    expect(body).toMatchObject(rest);
    if (detail !== undefined) expect(body.detail).toMatch(detail);
    await expectNothingKept(before);
  });

  it("names every bad field in one problem, each in a person's words with its allowed values", async () => {
    const before = await filesUnder(api.dataDir);
    const init = form(survey('customer-survey.xlsx'), {
      column: 'E2',
      categories: 'Other',
      batchSize: 'abc',
      concurrency: '1e1',
      temperature: '3',
    });
    const body = await problem(await api.request('/jobs', init()), 400);
    // Async checks (the categories) end after the others: the list's order is not the form's.
    expect(body.errors).toHaveLength(4);
    expect(body.errors).toEqual(
      expect.arrayContaining([
        {
          field: 'categories',
          code: 'only_fallback_category',
          detail: expect.stringMatching(/only "Other"/) as unknown,
        },
        {
          field: 'batchSize',
          code: 'out_of_range',
          detail: 'batchSize="abc": must be a whole number from 1 to 200, or auto',
        },
        {
          field: 'concurrency',
          code: 'out_of_range',
          // Plain decimal text only, as the CLI reads numbers: `1e1` is not 10.
          detail: expect.stringMatching(
            /^concurrency="1e1": must be a whole number from 1 to \d+$/,
          ) as unknown,
        },
        {
          field: 'temperature',
          code: 'out_of_range',
          detail: 'temperature="3": must be a number from 0 to 2',
        },
      ]),
    );
    const first = body.errors?.[0];
    expect(body).toMatchObject({ field: first?.field, code: first?.code });
    for (const field of ['batchSize', 'concurrency', 'temperature', 'Other'])
      expect(body.detail).toContain(field);
    // A setting refused for another field's sake comes with a field refused alone, on both routes.
    for (const route of ['/jobs', '/jobs/estimate']) {
      const crossed = await problem(
        await api.request(
          route,
          form(survey('customer-survey.xlsx'), { ...fields, maxCodes: '3', temperature: '9' })(),
        ),
        400,
      );
      expect(crossed.errors?.map((e) => [e.field, e.code]).sort()).toEqual([
        ['maxCodes', 'invalid_field'],
        ['temperature', 'out_of_range'],
      ]);
      // The field it depends on sent but refused: that field alone is named.
      const wrongMulti = await problem(
        await api.request(
          route,
          form(survey('customer-survey.xlsx'), { ...fields, multi: 'maybe', maxCodes: '3' })(),
        ),
        400,
      );
      expect(wrongMulti.errors?.map((e) => e.field) ?? [wrongMulti.field]).toEqual(['multi']);
    }
    await expectNothingKept(before);
  });

  it('names the columns the file lacks together with the bad settings, in the same 400 problem', async () => {
    const before = await filesUnder(api.dataDir);
    const init = form(survey('customer-survey.xlsx'), {
      column: 'ZZ',
      categories: 'Price\nDelivery\nprice',
      batchSize: '0',
      by: 'Nope',
    });
    const body = await problem(await api.request('/jobs', init()), 400);
    const byField = Object.fromEntries((body.errors ?? []).map((e) => [e.field, e]));
    expect(Object.keys(byField).sort()).toEqual(['batchSize', 'by', 'categories', 'column']);
    expect(byField.column).toMatchObject({ code: 'column_not_found', available: EXAMPLE_COLUMNS });
    expect(byField.column?.detail).toMatch(/^Column "ZZ" not found in sheet "Responses"/);
    expect(byField.by).toMatchObject({ code: 'banner_not_found' });
    expect(byField.by?.detail).toMatch(/^Banner column "Nope" \(by\) not found/);
    expect(byField.batchSize?.code).toBe('out_of_range');
    expect(byField.categories?.code).toBe('duplicate_categories');
    // A setting refused for another field's sake (maxCodes without multi) comes with the columns too.
    const crossed = await problem(
      await api.request(
        '/jobs',
        form(survey('customer-survey.xlsx'), { ...fields, column: 'ZZ', maxCodes: '3' })(),
      ),
      400,
    );
    expect(crossed.errors?.map((e) => [e.field, e.code])).toEqual([
      ['maxCodes', 'invalid_field'],
      ['column', 'column_not_found'],
    ]);
    await expectNothingKept(before);
  });

  it('names the column coded by hand as goldColumn and each missing banner, all in one 422 problem', async () => {
    const before = await filesUnder(api.dataDir);
    const init = form(survey('customer-survey.xlsx'), {
      ...fields,
      goldColumn: 'QQ',
      by: ['Country', 'Nope', 'Regoin'],
    });
    // Every field is well formed: the file is readable but lacks these columns (422, as one alone is).
    const body = await problem(await api.request('/jobs', init()), 422);
    expect(body).toMatchObject({
      field: 'goldColumn',
      code: 'column_not_found',
      available: EXAMPLE_COLUMNS,
    });
    expect(body.errors?.map((e) => [e.field, e.code])).toEqual([
      ['goldColumn', 'column_not_found'],
      ['by', 'banner_not_found'],
      ['by', 'banner_not_found'],
    ]);
    expect(body.errors?.[0]?.detail).toMatch(
      /^Column coded by hand "QQ" \(goldColumn\) not found in sheet "Responses"/,
    );
    expect(body.errors?.[1]?.detail).toContain('"Nope"');
    expect(body.errors?.[2]?.detail).toContain('"Regoin"');
    // Alone, the column coded by hand is still named as itself.
    const alone = await problem(
      await api.request('/jobs', form(survey('customer-survey.xlsx'), { ...fields, goldColumn: 'QQ' })()),
      422,
    );
    expect(alone).toMatchObject({ field: 'goldColumn', code: 'column_not_found' });
    await expectNothingKept(before);
  });

  it('refuses an upload over the limit (MAX_UPLOAD_MB), with or without a content-length', async () => {
    const small = api.makeApp({ maxUploadBytes: 16 * 1024 });
    const before = await filesUnder(api.dataDir);
    // Streamed: no content-length, the limit counts the bytes as they come.
    const streamed = await problem(await small.request('/jobs', post(exampleJob())), 413);
    expect(streamed).toMatchObject({ code: 'file_too_large', field: 'file' });
    expect(streamed.detail).toMatch(/larger than/);
    // Announced: refused from the header, before the body is read.
    const encoded = new Response(exampleJob());
    const bytes = new Uint8Array(await encoded.arrayBuffer());
    const announced = await small.request('/jobs', {
      method: 'POST',
      body: bytes,
      headers: {
        'content-type': encoded.headers.get('content-type') ?? '',
        'content-length': String(bytes.length),
      },
    });
    expect((await problem(announced, 413)).code).toBe('file_too_large');
    // The preview has the same limit.
    const preview = await small.request('/jobs/preview', post(jobForm(survey('customer-survey.xlsx'))));
    expect((await problem(preview, 413)).code).toBe('file_too_large');
    await expectNothingKept(before);
    // Under the limit the same upload goes through the limit (and fails later, on the missing column).
    const roomy = api.makeApp({ maxUploadBytes: 64 * 1024 });
    const ok = await roomy.request('/jobs', post(exampleJob({ column: 'Comments' })));
    expect((await problem(ok, 422)).code).toBe('column_not_found');
  });

  it('left no job after all of these', async () => {
    expect(api.jobs.created).toEqual([]);
    expect(await filesUnder(path.join(api.dataDir, 'jobs'))).toEqual([]);
  });
});

describe('POST /jobs/estimate names every mistake at once, as POST /jobs does', () => {
  it("names the columns the file lacks with the bad settings (400), and the file's columns alone (422)", async () => {
    const before = await filesUnder(api.dataDir);
    const mixed = await problem(
      await api.request(
        '/jobs/estimate',
        form(survey('customer-survey.xlsx'), {
          column: 'ZZ',
          categories: 'Price',
          batchSize: '0',
          by: 'Nope',
        })(),
      ),
      400,
    );
    expect(mixed.errors?.map((e) => e.field).sort()).toEqual(['batchSize', 'by', 'column']);
    const crossed = await problem(
      await api.request(
        '/jobs/estimate',
        form(survey('customer-survey.xlsx'), { ...fields, column: 'ZZ', maxCodes: '3' })(),
      ),
      400,
    );
    expect(crossed.errors?.map((e) => [e.field, e.code])).toEqual([
      ['maxCodes', 'invalid_field'],
      ['column', 'column_not_found'],
    ]);
    const columns = await problem(
      await api.request(
        '/jobs/estimate',
        form(survey('customer-survey.xlsx'), { ...fields, goldColumn: 'QQ', by: ['Country', 'Nope'] })(),
      ),
      422,
    );
    expect(columns.errors?.map((e) => [e.field, e.code])).toEqual([
      ['goldColumn', 'column_not_found'],
      ['by', 'banner_not_found'],
    ]);
    await expectNothingKept(before);
  });
});

describe('POST /jobs/preview refuses bad input and keeps no upload', () => {
  const previewCases: Case[] = [
    ...brokenFormCases,
    {
      name: 'no file',
      init: form(undefined, {}),
      status: 400,
      expected: { code: 'file_missing', field: 'file' },
    },
    {
      name: 'not a spreadsheet',
      init: form(survey('notes.docx', Buffer.from('PK\u0003\u0004')), {}),
      status: 400,
      expected: { code: 'invalid_workbook', field: 'file', detail: /not a spreadsheet \(\.docx\)/ },
    },
    {
      name: 'a zip bomb',
      init: form(survey('bomb.xlsx', CLAIMS_3_GIB), {}),
      status: 400,
      expected: { code: 'invalid_workbook', field: 'file', detail: /it would unpack to 3\.0 GiB/ },
    },
    {
      name: 'a sheet that does not exist',
      init: form(survey('customer-survey.xlsx'), { sheet: '7' }),
      status: 422,
      expected: { code: 'sheet_not_found', field: 'sheet', available: ['Responses', 'Notes'] },
    },
  ];

  it.each(previewCases)('$name → $status', async ({ init, status, expected }) => {
    const before = await filesUnder(api.dataDir);
    const body = await problem(await api.request('/jobs/preview', init()), status);
    const { detail, ...rest } = expected;
    expect(body).toMatchObject(rest);
    if (detail !== undefined) expect(body.detail).toMatch(detail);
    await expectNothingKept(before);
  });
});

describe('unknown jobs are 404 on every route', () => {
  const routes: Array<[string, (id: string) => [string, RequestInit?]]> = [
    ['GET /jobs/:id', (id) => [`/jobs/${id}`]],
    ['GET /jobs/:id/events', (id) => [`/jobs/${id}/events`]],
    ['GET /jobs/:id/result', (id) => [`/jobs/${id}/result`]],
    ['GET /jobs/:id/result?format=csv', (id) => [`/jobs/${id}/result?format=csv`]],
    ['PATCH /jobs/:id', (id) => [`/jobs/${id}`, patch({ paused: true })]],
    ['POST /jobs/:id/cancel', (id) => [`/jobs/${id}/cancel`, { method: 'POST' }]],
  ];
  const ids = [
    ['an id no job has', 'job-AAAAAAAAAAAAAAAA'],
    ['a path for an id', '..%2F..%2Fetc%2Fpasswd'],
    ['a character no job id has', 'job.1234'],
    ['an id too long for a job', `job-${'a'.repeat(200)}`],
  ] as const;

  for (const [route, request] of routes) {
    it.each(ids)(`${route} with %s`, async (_, id) => {
      const [pathname, init] = request(id);
      const body = await problem(await api.request(pathname, init), 404);
      expect(body).toMatchObject({ code: 'job_not_found', field: 'id' });
    });
  }
});

describe('PATCH /jobs/:id', () => {
  it('refuses a bad change, naming the field, and changes nothing', async () => {
    const jobId = 'job-running-00000001';
    api.jobs.put({ jobId, progress: progressOf(jobId, { window: { size: 3, max: 3 } }) });
    const cases: Array<[unknown, string, RegExp]> = [
      [{ concurrency: 0 }, 'concurrency', /concurrency/],
      [{ concurrency: 201 }, 'concurrency', /200/],
      [{ concurrency: 2.5 }, 'concurrency', /whole number/],
      [{ concurrency: '4' }, 'concurrency', /number/],
      [{ concurrency: true }, 'concurrency', /number/],
      [{ concurrency: null }, 'concurrency', /number/],
      [{ paused: 'yes' }, 'paused', /boolean/],
      [{}, 'body', /give "concurrency", "paused" and\/or "maxCost"/],
      [{ colour: 'red' }, 'colour', /colour/],
      [[], 'body', /object/],
    ];
    for (const [body, field, detail] of cases) {
      const response = await api.request(`/jobs/${jobId}`, patch(body));
      expect(response.status, JSON.stringify(body)).toBe(400);
      const problem = (await response.json()) as { field: string; detail: string };
      expect(problem.field, JSON.stringify(body)).toBe(field);
      expect(problem.detail, JSON.stringify(body)).toMatch(detail);
    }
    const notJson = await api.request(`/jobs/${jobId}`, {
      method: 'PATCH',
      body: 'paused=true',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ field: 'body', detail: /JSON/ });

    const job = await getJob(api, jobId);
    expect(job.progress).toMatchObject({ paused: false, window: { max: 3 } });
    // Refused before the job service: no change reached the job.
    expect(api.jobs.changes.get(jobId)).toBeUndefined();
  });
});

describe('every other error is a problem too', () => {
  it('an unknown route is a 404 problem', async () => {
    const body = await problem(await api.request('/nothing/here'), 404);
    expect(body).toMatchObject({ code: 'not_found', detail: 'No route GET /nothing/here' });
    await problem(await api.request('/jobs', { method: 'DELETE' }), 404);
  });

  it('an unexpected failure is a 500 naming the request id, and nothing of the cause', async () => {
    const broken = api.makeApp({
      preview: () => Promise.reject(new Error('EACCES: /srv/secret/path')),
    });
    const response = await broken.request('/jobs/preview', {
      ...post(jobForm(survey('customer-survey.xlsx'))),
      headers: { 'x-request-id': 'req-1234' },
    });
    const body = await problem(response, 500);
    expect(response.headers.get('x-request-id')).toBe('req-1234');
    expect(body).toMatchObject({ code: 'internal_error', requestId: 'req-1234' });
    expect(JSON.stringify(body)).not.toContain('secret');
  });

  it('a request id that is not a safe token is replaced', async () => {
    const response = await api.request('/nothing', { headers: { 'x-request-id': 'a b<script>' } });
    const id = response.headers.get('x-request-id') ?? '';
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await problem(response, 404)).requestId).toBe(id);
  });
});
