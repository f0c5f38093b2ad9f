/**
 * The API's routes as data: method, path, what each takes and every status it answers. The app registers
 * its handlers on them (api/app.ts, api/jobs.ts), which validates the requests, and `/openapi.json` is
 * generated from them. Paths under `/jobs` are relative to that sub-app.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  CodeframeFormSchema,
  CodeframeJsonSchema,
  CodeframeParamsSchema,
  CodeframeResultQuerySchema,
  JobFormSchema,
  JobJsonSchema,
  JobParamsSchema,
  ListQuerySchema,
  PatchSchema,
  PreviewFormSchema,
  PreviewJsonSchema,
  ResultQuerySchema,
  TablesQuerySchema,
} from './requests.js';
import {
  CancellingSchema,
  CodeframeCancellingSchema,
  CodeframeSchema,
  CodeframeStartedSchema,
  DocumentSchema,
  DuplicateSchema,
  EstimateSchema,
  HealthySchema,
  JobListSchema,
  JobSchema,
  PreviewSchema,
  ProblemSchema,
  SettingsSchema,
  StartedSchema,
  SummarySchema,
  TablesSchema,
  UnhealthySchema,
} from './schemas.js';

const json = <S extends z.ZodType>(description: string, schema: S) => ({
  description,
  content: { 'application/json': { schema } },
});
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** Every route but /healthz (and the web page) needs the token when API_TOKEN is set. */
const unauthorized = {
  ...problem('API_TOKEN is set and the bearer token is missing or wrong (code `unauthorized`)'),
  headers: z.object({
    'WWW-Authenticate': z
      .string()
      .openapi({ description: 'Bearer realm="verbatim" (and the error, if any)' }),
  }),
};
/** What `onError` answers for anything it cannot map: a route that reads Temporal or the disk can say it. */
const unexpected = problem(
  'Unexpected failure (Temporal or the disk): code `internal_error`, with the `requestId` to find it in the logs',
);
const unknownJob = problem('No job with this id (code `job_not_found`, field `id`)');
const notAForm =
  'the body is not valid multipart/form-data (code `invalid_body`, field `body`), the file is missing or empty, or it is not a spreadsheet (code `invalid_workbook`)';
/** What a body that names a job's upload (`jobId`) instead of sending a file may get wrong. */
const sources =
  'both `file` and `jobId` were sent (code `conflicting_fields`), neither (code `file_missing`), the JSON does not parse or has an unknown field';
/** A body naming a job's upload the store does not keep. */
const unknownSourceJob = problem(
  'No job keeps an uploaded file under `jobId` (code `job_not_found`, field `jobId`)',
);
/** A body as a form with the file, or as either a form or JSON naming a job's upload by `jobId`. */
const fileOrJob = <F extends z.ZodType, J extends z.ZodType>(form: F, json: J) => ({
  // One of the two is required; `required: true` would have each validator refuse the other's body.
  required: false,
  content: { 'multipart/form-data': { schema: form }, 'application/json': { schema: json } },
});
const tooLarge = problem('The upload is over MAX_UPLOAD_MB (code `file_too_large`, field `file`)');
/** A job's form (`POST /jobs`, `POST /jobs/estimate`) refused before the file is read as a sheet. */
const badJobForm = problem(
  `A field is missing, not text or out of range (\`field\` names it), the categories are empty, duplicated or malformed, ${sources}, or ${notAForm}`,
);
/** A job's result or summary asked for before there is one. */
const jobNotFinished = problem(
  'The job is still running, or ended without a result (code `job_not_finished`, `jobStatus` says how it stands)',
);

export const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Health, including the Temporal connection',
  security: [],
  responses: {
    200: json('Healthy', HealthySchema),
    503: json('Temporal unreachable', UnhealthySchema),
  },
});

export const documentRoute = createRoute({
  method: 'get',
  path: '/openapi.json',
  summary: 'This document',
  responses: {
    200: json('The OpenAPI 3.1 description of the API', DocumentSchema),
    401: unauthorized,
  },
});

export const settingsRoute = createRoute({
  method: 'get',
  path: '/settings',
  summary: "The server's job defaults and limits, for forms",
  responses: {
    200: json('Defaults (batch size, concurrency, parallel, model, temperature) and limits', SettingsSchema),
    401: unauthorized,
  },
});

export const createJobRoute = createRoute({
  method: 'post',
  path: '/',
  summary: 'Start a job: upload a spreadsheet and say which column to code into which categories',
  description:
    "A file already uploaded for a job need not be sent again: give `jobId` instead of `file`, in the form or as JSON, and the new job codes that job's stored copy (GET /jobs/{id} says, under `startedWith`, what it was started with).",
  request: { body: fileOrJob(JobFormSchema, JobJsonSchema) },
  responses: {
    200: json(
      'Not started: an identical job (same file content, column, sheet, question, categories and settings) is running or done; send `force=true` to code again',
      DuplicateSchema,
    ),
    202: {
      ...json('Started', StartedSchema),
      headers: z.object({ Location: z.string().openapi({ description: 'The job: /jobs/{id}' }) }),
    },
    400: badJobForm,
    401: unauthorized,
    404: unknownSourceJob,
    413: tooLarge,
    422: problem(
      'The file is readable but not as asked: sheet or column not found (`available` lists those that exist), or too many categories',
    ),
    500: unexpected,
  },
});

export const estimateJobRoute = createRoute({
  method: 'post',
  path: '/estimate',
  summary: 'What a job would cost: its requests, tokens and dollars, without calling the model',
  description:
    'Takes the same form as `POST /jobs` (or its JSON, naming a job’s upload by `jobId`), reads the file and plans the batches exactly as the job would, and counts the tokens with the model’s tokenizer. Nothing is stored and no job starts. The cost is null ("cost unknown") for a model without a price: set OPENAI_PRICE_INPUT and OPENAI_PRICE_OUTPUT.',
  request: { body: fileOrJob(JobFormSchema, JobJsonSchema) },
  responses: {
    200: json('The estimate', EstimateSchema),
    400: badJobForm,
    401: unauthorized,
    404: unknownSourceJob,
    413: tooLarge,
    422: problem(
      'The file is readable but not as asked: sheet or column not found (the answers, the column coded by hand, a banner: several are listed together under `errors`), or no answer to code',
    ),
    500: unexpected,
  },
});

export const listJobsRoute = createRoute({
  method: 'get',
  path: '/',
  summary: 'Jobs from Temporal visibility, newest first (by creation), paged',
  description:
    'SQL visibility cannot ORDER BY, so the jobs are read and sorted by the API. Each job is listed once, as its latest run; the page token is a cursor (creation time and id of the last job shown), stable while new jobs arrive.',
  request: { query: ListQuerySchema },
  responses: {
    200: json('A page of jobs', JobListSchema),
    400: problem(
      'pageSize is not a whole number from 1 to 100, or pageToken is not one this API gave out (`field` says which)',
    ),
    401: unauthorized,
    500: unexpected,
  },
});

export const previewRoute = createRoute({
  method: 'post',
  path: '/preview',
  summary:
    'Sheets, header row and first rows of an uploaded file (or of the upload of the job named by `jobId`), to pick the column',
  request: { body: fileOrJob(PreviewFormSchema, PreviewJsonSchema) },
  responses: {
    200: json('Preview', PreviewSchema),
    400: problem(`The sheet field is not text or too long, ${sources}, or ${notAForm}`),
    401: unauthorized,
    404: unknownSourceJob,
    413: tooLarge,
    422: problem('Sheet not found (`available` lists the sheets)'),
    500: unexpected,
  },
});

export const getJobRoute = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'Live progress (from the workflow query), and the final stats once done',
  request: { params: JobParamsSchema },
  responses: {
    200: json('The job', JobSchema),
    401: unauthorized,
    404: unknownJob,
    500: unexpected,
  },
});

export const changeJobRoute = createRoute({
  method: 'patch',
  path: '/{id}',
  summary: 'Change concurrency, pause or resume, set the cost cap (workflow updates, validated)',
  request: {
    params: JobParamsSchema,
    body: { required: true, content: { 'application/json': { schema: PatchSchema } } },
  },
  responses: {
    200: json('The job after the change', JobSchema),
    400: problem(
      'Invalid change: the body is not JSON, has an unknown field or a value out of range (`field` names it), or the workflow rejected the update (code `update_rejected`)',
    ),
    401: unauthorized,
    404: unknownJob,
    409: problem('The job is not running: only a running job can be changed (code `job_not_running`)'),
    500: unexpected,
  },
});

export const jobEventsRoute = createRoute({
  method: 'get',
  path: '/{id}/events',
  summary: 'Server-Sent Events: `progress` events until `done` (or `shutdown`, then reconnect)',
  request: { params: JobParamsSchema },
  responses: {
    200: {
      description:
        '`progress` events (data: a Progress) while the job runs, then one `done` event (data: the Job). When the server shuts down, a `shutdown` event with `retry`: reconnect.',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    401: unauthorized,
    404: unknownJob,
    500: unexpected,
  },
});

export const jobResultRoute = createRoute({
  method: 'get',
  path: '/{id}/result',
  summary:
    'The coded workbook (or CSV, with formula-like cells made safe, or an SPSS system file); partial after a cancel or a failure',
  request: { params: JobParamsSchema, query: ResultQuerySchema },
  responses: {
    200: {
      description:
        'The file, named `<name>.coded.<format>` (`<name>.partial.<format>` after a cancel or a failure: the rows coded so far)',
      headers: z.object({ 'Content-Disposition': z.string() }),
      content: {
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
          schema: z.string().openapi({ format: 'binary' }),
        },
        'text/csv': { schema: z.string() },
        'application/x-spss-sav': {
          schema: z.string().openapi({
            format: 'binary',
            description:
              '`format=sav`: one case per data row, the coded answer as a numeric variable with value labels, or in multi-code mode 0/1 variables with a multiple dichotomy set per question and per net',
          }),
        },
      },
    },
    400: problem('format is not xlsx, csv or sav (field `format`)'),
    401: unauthorized,
    404: unknownJob,
    409: jobNotFinished,
    500: unexpected,
  },
});

export const jobSummaryRoute = createRoute({
  method: 'get',
  path: '/{id}/summary',
  summary:
    "The result in figures, as the workbook's Summary sheet has them: the base, each category and net with its count, share and example answers, the rows set apart, the agreement",
  request: { params: JobParamsSchema },
  responses: {
    200: json('The summary (PARTIAL after a cancel or a failure)', SummarySchema),
    401: unauthorized,
    404: unknownJob,
    409: jobNotFinished,
    500: unexpected,
  },
});

export const cancelJobRoute = createRoute({
  method: 'post',
  path: '/{id}/cancel',
  summary: 'Cancel: rows already coded are kept in a partial result',
  request: { params: JobParamsSchema },
  responses: {
    202: json('Cancelling', CancellingSchema),
    401: unauthorized,
    404: unknownJob,
    409: problem('The job is not running (code `job_not_running`)'),
    500: unexpected,
  },
});

// --- Codeframe drafts: paths relative to the `/codeframes` sub-app.

const unknownDraft = problem('No codeframe draft with this id (code `codeframe_not_found`, field `id`)');

export const createCodeframeRoute = createRoute({
  method: 'post',
  path: '/',
  summary:
    'Draft a codeframe from the answers: upload a spreadsheet (or name a job that uploaded it) and say which column to read',
  description:
    'Starts buildCodeframeWorkflow: the answers are read (as a coding job reads them), themes extracted from chunks in parallel, merged by the model down to at most `maxCodes`, then measured on a sample; codes under `minShare` fold into Other. The draft is a categories file to review, then send as `categories` to POST /jobs. A file already uploaded for a job need not be sent again: give `jobId` instead of `file`, in the form or as JSON (`{"jobId": "…", "column": "E2"}`); the draft reads that job\'s stored copy.',
  request: { body: fileOrJob(CodeframeFormSchema, CodeframeJsonSchema) },
  responses: {
    202: {
      ...json('Started', CodeframeStartedSchema),
      headers: z.object({ Location: z.string().openapi({ description: 'The draft: /codeframes/{id}' }) }),
    },
    400: problem(
      `A field is missing, not text or out of range (\`field\` names it: \`column\`, \`maxCodes\`, \`minShare\`, …), both \`file\` and \`jobId\` were sent (code \`conflicting_fields\`), neither (code \`file_missing\`), the JSON does not parse, or ${notAForm}`,
    ),
    401: unauthorized,
    404: unknownSourceJob,
    413: tooLarge,
    422: problem(
      'The file is readable but not as asked: sheet or column not found (`available` lists those that exist)',
    ),
    500: unexpected,
  },
});

export const getCodeframeRoute = createRoute({
  method: 'get',
  path: '/{id}',
  summary:
    'The draft: live progress (phase, chunks, themes, calls), then the codeframe with shares and examples',
  request: { params: CodeframeParamsSchema },
  responses: {
    200: json('The draft', CodeframeSchema),
    401: unauthorized,
    404: unknownDraft,
    500: unexpected,
  },
});

export const codeframeResultRoute = createRoute({
  method: 'get',
  path: '/{id}/result',
  summary: 'The drafted categories file (as `verbatim classify` and POST /jobs read it), or its table',
  request: { params: CodeframeParamsSchema, query: CodeframeResultQuerySchema },
  responses: {
    200: {
      description:
        '`<name>.categories.txt` (codes as `Label: description` lines, nets as `[Net]` lines, Other last, a `#` header) or `<name>.categories.xlsx` (code, label, description, net, share, up to three examples)',
      headers: z.object({ 'Content-Disposition': z.string() }),
      content: {
        'text/plain': { schema: z.string() },
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
          schema: z.string().openapi({ format: 'binary' }),
        },
      },
    },
    400: problem('format is neither txt nor xlsx (field `format`)'),
    401: unauthorized,
    404: unknownDraft,
    409: problem(
      'The draft is still running, or ended without a codeframe (code `codeframe_not_finished`, `jobStatus` says how it stands)',
    ),
    500: unexpected,
  },
});

export const cancelCodeframeRoute = createRoute({
  method: 'post',
  path: '/{id}/cancel',
  summary: 'Cancel a draft: what its steps stored stays, nothing is written',
  request: { params: CodeframeParamsSchema },
  responses: {
    202: json('Cancelling', CodeframeCancellingSchema),
    401: unauthorized,
    404: unknownDraft,
    409: problem('The draft is not running (code `codeframe_not_running`)'),
    500: unexpected,
  },
});

export const retryJobRoute = createRoute({
  method: 'post',
  path: '/{id}/retry',
  summary: 'Resume a cancelled job or retry a failed one: the rows it coded are kept, the rest are coded',
  request: { params: JobParamsSchema },
  responses: {
    202: json('Running again', StartedSchema),
    401: unauthorized,
    404: unknownJob,
    409: problem(
      'The job is running or completed, or its files are gone (code `job_state_conflict`, `detail` says which)',
    ),
    500: unexpected,
  },
});

export const deleteJobRoute = createRoute({
  method: 'delete',
  path: '/{id}',
  summary: 'Delete an ended job: its files under DATA_DIR and its workflow, so it leaves the list',
  request: { params: JobParamsSchema },
  responses: {
    204: { description: 'Deleted' },
    401: unauthorized,
    404: unknownJob,
    409: problem('The job is still running: cancel it first (code `job_state_conflict`)'),
    500: unexpected,
  },
});

export const jobTablesRoute = createRoute({
  method: 'get',
  path: '/{id}/tables',
  summary:
    "Tables by segment: the job's codes and nets by each banner column's values, with column % and marks",
  description:
    'Computed from the stored output and the original sheet: by the banners given (`by`, repeated), else by those the job was started with (none: an empty list).',
  request: { params: JobParamsSchema, query: TablesQuerySchema },
  responses: {
    200: json('The tables, one per banner', TablesSchema),
    400: problem('A banner cannot be read, such as bad groups (field `by`)'),
    401: unauthorized,
    404: unknownJob,
    409: problem(
      'The job has not written its output (code `job_not_finished`, `jobStatus` says how it stands)',
    ),
    422: problem(
      'A banner column is not in the sheet (code `banner_not_found`, field `by`, `available` lists the columns)',
    ),
    500: unexpected,
  },
});
