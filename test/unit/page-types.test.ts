/**
 * The web page's types of the API's JSON (api/public/js/types.d.ts) against the server's: what the server
 * sends must fit what the page reads, so a field renamed, retyped or dropped on the server fails the type
 * check (`tsc -p .`) here. Each body is checked against the zod schema its route declares (what
 * /openapi.json describes and test/api/service.test.ts holds real answers to), and where there is one, the
 * server's own type. A job's progress, phase and stats and a draft's progress the page imports from domain/
 * (`tsc -p api/public` checks its use of them), so they cannot drift.
 *
 * The page does not derive its types from the schemas (`z.output<typeof XSchema>`): importing api/schemas.ts
 * would bring the whole server, and Node's types, into the page's check, whose tsconfig is the DOM's alone.
 * An optional field the page reads and the server drops is not caught (a type without it still fits).
 */
import type { z } from '@hono/zod-openapi';
import type { WorkflowExecutionStatusName } from '@temporalio/client';
import { describe, expectTypeOf, it } from 'vitest';
import type * as page from '../../api/public/js/types.js';
import type * as api from '../../api/schemas.js';
import type { BannerTable } from '../../domain/banner-tables.js';
import type { CodeframeReport } from '../../domain/codeframe-file.js';
import type { CostEstimate } from '../../domain/cost.js';
import type { QualitySummary } from '../../domain/quality.js';
import type { ResultSummary } from '../../domain/report.js';
import type { SheetFormat } from '../../domain/sheet-format.js';
import type { Preview } from '../../sheets/index.js';

/** What a route answers with the schema, as it is sent. */
type Sent<T extends z.ZodType> = z.output<T>;

describe("the page's types of the API's JSON", () => {
  it("fit the routes' schemas", () => {
    expectTypeOf<Sent<typeof api.JobStatusSchema>>().toExtend<page.JobStatus>();
    expectTypeOf<Sent<typeof api.ProblemSchema>>().toExtend<page.ProblemFields>();
    expectTypeOf<Sent<typeof api.SettingsSchema>>().toExtend<page.Settings>();
    expectTypeOf<Sent<typeof api.PreviewSchema>>().toExtend<page.Preview>();
    expectTypeOf<Sent<typeof api.EstimateSchema>>().toExtend<page.Estimate>();
    expectTypeOf<Sent<typeof api.StartedSchema>>().toExtend<page.StartedJob>();
    expectTypeOf<Sent<typeof api.DuplicateSchema>>().toExtend<page.DuplicateJob>();
    expectTypeOf<Sent<typeof api.CancellingSchema>>().toExtend<page.CancellingJob>();
    expectTypeOf<Sent<typeof api.LinksSchema>>().toExtend<page.JobLinks>();
    expectTypeOf<Sent<typeof api.JobListSchema>>().toExtend<page.JobListPage>();
    expectTypeOf<Sent<typeof api.JobListItemSchema>>().toExtend<page.JobListItem>();
    expectTypeOf<Sent<typeof api.JobSchema>>().toExtend<page.JobView>();
    expectTypeOf<Sent<typeof api.ProgressSchema>>().toExtend<page.JobProgress>();
    expectTypeOf<Sent<typeof api.JobStatsSchema>>().toExtend<page.JobStats>();
    expectTypeOf<Sent<typeof api.QualitySchema>>().toExtend<page.JobQuality>();
    expectTypeOf<Sent<typeof api.SummarySchema>>().toExtend<page.JobResultSummary>();
    expectTypeOf<Sent<typeof api.SummarySchema>['categories'][number]>().toExtend<page.ResultCategory>();
    expectTypeOf<Sent<typeof api.TablesSchema>>().toExtend<page.JobTables>();
    expectTypeOf<Sent<typeof api.CodeframeStartedSchema>>().toExtend<page.StartedCodeframe>();
    expectTypeOf<Sent<typeof api.CodeframeLinksSchema>>().toExtend<page.CodeframeLinks>();
    expectTypeOf<Sent<typeof api.CodeframeSchema>>().toExtend<page.CodeframeView>();
    expectTypeOf<Sent<typeof api.CodeframeProgressSchema>>().toExtend<page.CodeframeProgress>();
    expectTypeOf<Sent<typeof api.CodeframeReportSchema>>().toExtend<page.CodeframeReport>();
  });

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
