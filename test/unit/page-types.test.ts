/**
 * The web page's types of the API's JSON (api/public/js/types.d.ts) against the server's own types: what the
 * server sends must fit what the page reads, so a field renamed, retyped or dropped on the server fails the
 * type check (`tsc -p .`) here. The job view, list entry and settings are built in api/ without a named
 * type; they are not checked here. Nor are a job's progress, phase and stats and a draft's progress: the page
 * imports those from domain/ (`tsc -p api/public` checks its use of them), so they cannot drift.
 */
import type { WorkflowExecutionStatusName } from '@temporalio/client';
import { describe, expectTypeOf, it } from 'vitest';
import type * as page from '../../api/public/js/types.js';
import type { BannerTable } from '../../domain/banner-tables.js';
import type { CodeframeReport } from '../../domain/codeframe-file.js';
import type { CostEstimate } from '../../domain/cost.js';
import type { QualitySummary } from '../../domain/quality.js';
import type { ResultSummary } from '../../domain/report.js';
import type { SheetFormat } from '../../domain/sheet-format.js';
import type { Preview } from '../../sheets/index.js';

describe("the page's types of the API's JSON", () => {
  it("fit the server's tables by segment (GET /jobs/:id/tables adds each table's notes)", () => {
    expectTypeOf<{
      jobId: string;
      header: string;
      tables: ReadonlyArray<BannerTable & { notes: string[] }>;
    }>().toExtend<page.JobTables>();
  });

  it("fit the server's statuses, agreement figures and estimate", () => {
    expectTypeOf<WorkflowExecutionStatusName>().toExtend<page.JobStatus>();
    expectTypeOf<QualitySummary>().toExtend<page.JobQuality>();
    expectTypeOf<CostEstimate>().toExtend<page.Estimate>();
  });

  it("fit the server's result summary (GET /jobs/:id/summary adds the id and status)", () => {
    expectTypeOf<
      ResultSummary & { jobId: string; status: WorkflowExecutionStatusName }
    >().toExtend<page.JobResultSummary>();
  });

  it("fit the server's preview (POST /jobs/preview adds the file's name and format)", () => {
    expectTypeOf<Preview & { fileName: string; format: SheetFormat }>().toExtend<page.Preview>();
  });

  it("fit the server's codeframe draft: its written report", () => {
    expectTypeOf<CodeframeReport>().toExtend<page.CodeframeReport>();
  });
});
