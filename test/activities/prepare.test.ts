import { writeFile } from 'node:fs/promises';

import { MockActivityEnvironment } from '@temporalio/testing';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { PreparedJob } from '../../activities/prepare.js';
import { prepareActivities } from '../../activities/prepare.js';
import { assignmentsOf, readBatch, readRows } from '../../activities/stored.js';
import type { JobSpec } from '../../domain/job.js';
import { JobStore } from '../../lib/store.js';
import { testOptions } from '../helpers/harness.js';
import type { TempDir } from '../sheets/fixtures.js';
import { tempDir } from '../sheets/fixtures.js';

let dir: TempDir;
let store: JobStore;
beforeAll(async () => {
  dir = await tempDir();
  store = new JobStore(dir.path);
});
afterAll(() => dir.remove());

const llm = { client: new OpenAI({ apiKey: 'unused' }), simulated: true, endpoint: 'http://unused' };

async function prepare(jobId: string, csv: string, column: string, encoding: BufferEncoding = 'utf8') {
  await store.writeBytes(jobId, 'input.csv', Buffer.from(csv, encoding));
  const spec: JobSpec = {
    jobId,
    fileName: 'survey.csv',
    format: 'csv',
    input: 'input.csv',
    column,
    categories: [{ name: 'Price' }, { name: 'Service' }],
    options: testOptions(),
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  await writeFile(store.file(jobId, 'job.json'), JSON.stringify(spec));
  const { prepareJob } = prepareActivities({ store, llm });
  return new MockActivityEnvironment().run<[], PreparedJob, () => Promise<PreparedJob>>(() =>
    prepareJob({ jobId }),
  );
}

describe('prepareJob', () => {
  it('sends the model a cleaned copy of answers and question, one per answer that differs only invisibly', async () => {
    const csv =
      'ID,"What\u200B could we do \u202Ebetter?"\n' +
      '1,"too\u0007 expensive\uFEFF"\n' +
      '2,"too expensive"\n' +
      '3,"\u200B\u0001"\n' +
      '4,"rude\u202E staff\u2066"\n';
    const { plan } = await prepare('job-clean', csv, 'B');
    expect(plan.question).toBe('What could we do better?');
    expect(plan.rows).toMatchObject({ total: 4, empty: 1, invalid: 0, classify: 3 });
    expect(plan.uniqueAnswers).toBe(2);
    const batch = await readBatch(store, 'job-clean', 0);
    expect(batch.items.map((i) => i.text)).toEqual(['too expensive', 'rude staff']);
  });

  it("keeps what the reader noticed in the plan, for the Run sheet; a clean file's plan has none", async () => {
    const { plan } = await prepare('job-1252', 'ID,Answer\n1,too dear\n2,trop cher, café\n', 'B', 'latin1');
    expect(plan.warnings?.map((w) => [w.code, w.rows])).toEqual([['windows_1252', [3]]]);
    const clean = await prepare('job-utf8', 'ID,Answer\n1,too dear\n', 'B');
    expect(clean.plan.warnings).toBeUndefined();
  });
});

describe('rows.json', () => {
  it('stores the rows as columns, and still reads the tuples of jobs prepared before', async () => {
    await prepare('job-rows', 'ID,Answer\n1,too dear\n2,\n3,-\n4,too dear\n', 'B');
    const rows = await readRows(store, 'job-rows');
    expect(rows).toMatchObject({ rows: [2, 3, 4, 5], kinds: 'keik', answers: [0, -1, -1, 0] });
    const tuples = [...assignmentsOf(rows)];
    expect(tuples).toEqual([
      [2, 'classify', 0],
      [3, 'empty', -1],
      [4, 'invalid', -1],
      [5, 'classify', 0],
    ]);
    await writeFile(
      store.file('job-rows', 'rows.json'),
      JSON.stringify({ assignments: tuples, codedLabels: [[9, 'Price']] }),
    );
    const old = await readRows(store, 'job-rows');
    expect([...assignmentsOf(old)]).toEqual(tuples);
    expect(old.codedLabels).toEqual([[9, 'Price']]);
  });
});
