import { Client } from '@temporalio/client';
import type { ConnectionLike } from '@temporalio/client';
import { defineSearchAttributeKey } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { listedStatus } from '../../api/jobs.js';
import { JOB_WORKFLOW_TYPE } from '../../jobs/service.js';

const { WorkflowExecutionStatus } = temporal.api.enums.v1;

/** A search attribute as visibility sends it: JSON, with its type in the metadata. */
function attribute(type: string, value: unknown): object {
  return {
    metadata: { encoding: Buffer.from('json/plain'), type: Buffer.from(type) },
    data: Buffer.from(JSON.stringify(value)),
  };
}

/**
 * A client whose server answers every list with `executions`: the SDK decodes them as it decodes a real
 * server's page. The dev server (CLI 1.5.1, server 1.29.1) answers PauseWorkflowExecution with
 * UNIMPLEMENTED, so a paused workflow can only be listed this way.
 */
function clientListing(executions: object[]): Client {
  const page = temporal.api.workflowservice.v1.ListWorkflowExecutionsResponse.fromObject({ executions });
  const connection = {
    workflowService: { listWorkflowExecutions: () => Promise.resolve(page) },
    plugins: [],
  } as unknown as ConnectionLike;
  return new Client({ connection });
}

const started = new Date('2026-01-02T03:04:05.678Z');
const seconds = (d: Date) => ({ seconds: Math.floor(d.getTime() / 1000), nanos: (d.getTime() % 1000) * 1e6 });

describe('a job listed from visibility', () => {
  it('lists a workflow paused in Temporal as PAUSED, not ended (it was UNKNOWN)', async () => {
    const client = clientListing([
      {
        execution: { workflowId: 'job-paused', runId: 'run-1' },
        type: { name: JOB_WORKFLOW_TYPE },
        startTime: seconds(started),
        status: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_PAUSED,
        historyLength: 12,
        taskQueue: 'verbatim',
        searchAttributes: { indexedFields: { VerbatimPhase: attribute('Keyword', 'classifying') } },
      },
    ]);
    const listed = [];
    for await (const execution of client.workflow.list()) listed.push(execution);
    expect(listed.map((e) => [e.workflowId, e.status.name, e.startTime])).toEqual([
      ['job-paused', 'PAUSED', started],
    ]);
    const [paused] = listed;
    if (!paused) throw new Error('nothing listed');
    expect(listedStatus(paused)).toEqual({ status: 'PAUSED', closedAt: null });
    expect(paused.typedSearchAttributes.get(defineSearchAttributeKey('VerbatimPhase', 'KEYWORD'))).toBe(
      'classifying',
    );
  });
});
