import os from 'node:os';
import { Client } from '@temporalio/client';
import type { ConnectionLike } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { progressOf } from '../helpers/fake-jobs.js';
import { createFakeApi } from './helpers.js';
import type { JobCursor, JobSummary } from '../../jobs/service.js';
import { JOB_WORKFLOW_TYPE, createJobService, pageOfJobs } from '../../jobs/service.js';
import { JobStore } from '../../lib/store.js';
import { inspectColumn } from '../../sheets/index.js';

const { WorkflowExecutionStatus } = temporal.api.enums.v1;

/** A search attribute as visibility sends it: JSON, with its type in the metadata. */
function attribute(type: string, value: unknown): object {
  return {
    metadata: { encoding: Buffer.from('json/plain'), type: Buffer.from(type) },
    data: Buffer.from(JSON.stringify(value)),
  };
}

/**
 * The Temporal job service on a client whose server answers every list with `executions`: the SDK decodes
 * them as it decodes a real server's page. The dev server (CLI 1.5.1, server 1.29.1) answers
 * PauseWorkflowExecution with UNIMPLEMENTED, so a paused workflow can only be listed this way.
 */
function serviceListing(executions: object[]) {
  const page = temporal.api.workflowservice.v1.ListWorkflowExecutionsResponse.fromObject({ executions });
  const connection = {
    workflowService: { listWorkflowExecutions: () => Promise.resolve(page) },
    plugins: [],
  } as unknown as ConnectionLike;
  return createJobService({
    client: new Client({ connection }),
    store: new JobStore(os.tmpdir()),
    taskQueue: 'verbatim',
    searchAttributes: true,
    inspect: inspectColumn,
  });
}

const timestamp = (d: Date) => ({
  seconds: Math.floor(d.getTime() / 1000),
  nanos: (d.getTime() % 1000) * 1e6,
});

describe('a job listed from visibility', () => {
  it('lists a workflow paused in Temporal as PAUSED and not ended (it was UNKNOWN)', async () => {
    const started = new Date('2026-01-02T03:04:05.678Z');
    const jobs = serviceListing([
      {
        execution: { workflowId: 'job-paused', runId: 'run-1' },
        type: { name: JOB_WORKFLOW_TYPE },
        startTime: timestamp(started),
        status: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_PAUSED,
        historyLength: 12,
        taskQueue: 'verbatim',
        searchAttributes: {
          indexedFields: {
            VerbatimFileName: attribute('Keyword', 'survey.xlsx'),
            VerbatimPhase: attribute('Keyword', 'classifying'),
            VerbatimRows: attribute('Int', 120),
          },
        },
      },
    ]);
    expect(await jobs.list({ limit: 10 })).toEqual({
      jobs: [
        {
          jobId: 'job-paused',
          status: 'PAUSED',
          fileName: 'survey.xlsx',
          column: null,
          phase: 'classifying',
          rows: 120,
          fallbacks: null,
          createdAt: started,
          closedAt: null,
        },
      ],
      next: undefined,
    });
  });
});

describe('a page of jobs', () => {
  const at = (ms: number, jobId: string): JobSummary => ({
    jobId,
    status: 'COMPLETED',
    fileName: null,
    column: null,
    phase: null,
    rows: null,
    fallbacks: null,
    createdAt: new Date(ms),
    closedAt: null,
  });
  // Newest first; two jobs created in the same millisecond are ordered by id, larger first.
  const jobs = [at(5, 'job-e'), at(4, 'job-d'), at(4, 'job-c'), at(4, 'job-b'), at(1, 'job-a')];

  it('cuts the list after the cursor, every job once', () => {
    const seen: string[] = [];
    let after: JobCursor | undefined;
    do {
      const page = pageOfJobs(jobs, { limit: 2, after });
      expect(page.jobs.length).toBeLessThanOrEqual(2);
      seen.push(...page.jobs.map((j) => j.jobId));
      after = page.next;
    } while (after);
    expect(seen).toEqual(['job-e', 'job-d', 'job-c', 'job-b', 'job-a']);
  });

  it('has no next page when the last job is on this one', () => {
    expect(pageOfJobs(jobs, { limit: 5 }).next).toBeUndefined();
    expect(pageOfJobs(jobs, { limit: 4 }).next).toEqual({ createdAt: new Date(4), jobId: 'job-b' });
  });
});

describe('a job paused in Temporal, through the API', () => {
  it('is listed as PAUSED and not ended, and its event stream goes on until the job ends', async () => {
    const api = await createFakeApi();
    try {
      const createdAt = new Date('2026-01-02T03:04:05.678Z');
      api.jobs.put({ jobId: 'job-paused', status: 'PAUSED', createdAt, progress: progressOf('job-paused') });
      const list = (await (await api.request('/jobs')).json()) as { jobs: unknown[] };
      expect(list.jobs).toEqual([
        expect.objectContaining({ jobId: 'job-paused', status: 'PAUSED', closedAt: null }),
      ]);

      const response = await api.request('/jobs/job-paused/events');
      const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
      if (!reader) throw new Error('no body');
      let text = '';
      // Several progress events while it is paused: a PAUSED job is not done.
      while ((text.match(/event: progress/g) ?? []).length < 3) text += (await reader.read()).value ?? '';
      expect(text).not.toContain('event: done');
      api.jobs.put({ jobId: 'job-paused', status: 'COMPLETED', closedAt: new Date() });
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
      expect(text).toMatch(/event: done\ndata: \{"jobId":"job-paused","status":"COMPLETED"/);
    } finally {
      await api.close();
    }
  });
});
