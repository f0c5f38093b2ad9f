/**
 * The API described for clients and tools (served at /openapi.json). Hand-written: the API is small. The
 * schemas of the job view, its progress and stats and the preview are keyed by the TypeScript types they
 * describe (`satisfies Record<keyof T, …>`), so a field added to one of those types fails the type-check
 * until it is described here; test/api/service.test.ts checks statuses and bodies against real answers.
 */
import type { WorkflowExecutionStatusName } from '@temporalio/client';
import type { Preview, PreviewColumn, PreviewSheet } from '../sheets/index.js';
import { MAX_BATCH_SIZE } from '../domain/batching.js';
import type { JobPhase, JobProgress, JobStats } from '../domain/job.js';
import type { SheetWarning } from '../domain/sheet-warnings.js';
import { MAX_CONCURRENCY } from '../workflows/definitions.js';

type Schema = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });
const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});
/** An object whose properties are all present, but for the `optional` ones. */
const fields = (properties: Record<string, Schema>, optional: readonly string[] = []) => ({
  type: 'object',
  required: Object.keys(properties).filter((key) => !optional.includes(key)),
  properties,
});
const nullable = (schema: Schema) => ({ oneOf: [schema, { type: 'null' }] });
const integer = (description?: string) => ({
  type: 'integer',
  minimum: 0,
  ...(description ? { description } : {}),
});
const dateTime = { type: 'string', format: 'date-time' };

const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{2,99}$' },
};

/** Every route but /healthz (and the web page) needs the token when API_TOKEN is set. */
const unauthorized = {
  description: 'API_TOKEN is set and the bearer token is missing or wrong',
  headers: { 'WWW-Authenticate': { schema: { const: 'Bearer realm="verbatim"' } } },
  content: { 'application/problem+json': { schema: ref('Problem') } },
};
/** What `onError` answers for anything it cannot map: a route that reads Temporal or the disk can say it. */
const unexpected = problemResponse(
  'Unexpected failure (Temporal or the disk): code `internal_error`, with the `requestId` to find it in the logs',
);
const unknownJob = problemResponse('No job with this id (code `job_not_found`, field `id`)');
const notAForm =
  'the body is not valid multipart/form-data (code `invalid_body`, field `body`), the file is missing or empty, or it is not a spreadsheet (code `invalid_workbook`)';
const tooLarge = problemResponse('The upload is over MAX_UPLOAD_MB (code `file_too_large`, field `file`)');

const PHASES = Object.keys({
  preparing: 0,
  classifying: 0,
  writing: 0,
  done: 0,
  cancelled: 0,
  failed: 0,
} satisfies Record<JobPhase, 0>);

const STATUSES = Object.keys({
  RUNNING: 0,
  COMPLETED: 0,
  FAILED: 0,
  CANCELLED: 0,
  TERMINATED: 0,
  TIMED_OUT: 0,
  CONTINUED_AS_NEW: 0,
  PAUSED: 0,
  UNSPECIFIED: 0,
  UNKNOWN: 0,
} satisfies Record<WorkflowExecutionStatusName, 0>);

const progressSchema = fields({
  jobId: { type: 'string' },
  phase: { enum: PHASES },
  paused: { type: 'boolean' },
  simulated: {
    type: 'boolean',
    description:
      'A dry run against the simulator (the worker has no API key): the categories are not real codings',
  },
  fileName: { type: 'string' },
  column: { type: 'string' },
  rows: fields({
    total: integer('Data rows of the sheet (0 until the job is prepared)'),
    done: integer('Rows settled: empty, invalid, already coded, and classified'),
    empty: integer(),
    invalid: integer(),
    alreadyCoded: integer('Rows whose category column was filled before the job'),
    toClassify: integer(),
    classified: integer('Rows coded so far, fallbacks included'),
    fallback: integer('Rows given the fallback label because their batch could not be coded'),
  } satisfies Record<keyof JobProgress['rows'], Schema>),
  uniqueAnswers: integer('Distinct answers sent to the model (duplicates are sent once)'),
  batches: fields({
    total: integer(),
    done: integer(),
    inFlight: integer(),
    fallback: integer('Batches that could not be coded after their retries'),
  } satisfies Record<keyof JobProgress['batches'], Schema>),
  window: fields({
    size: integer('Batches allowed in flight now (narrowed after 429s)'),
    max: integer('The ceiling of the window: the job’s concurrency'),
  } satisfies Record<keyof JobProgress['window'], Schema>),
  ratePerMinute: { type: 'number', minimum: 0, description: 'Rows classified per minute' },
  etaSeconds: { type: ['number', 'null'], minimum: 0, description: 'Null while the rate is not known yet' },
  elapsedSeconds: { type: 'number', minimum: 0 },
  tokens: fields({
    prompt: integer(),
    completion: integer(),
    cached: integer(),
    total: integer('Prompt and completion'),
  } satisfies Record<keyof JobProgress['tokens'], Schema>),
  apiCalls: integer('Requests sent to the model, retries included'),
  rateLimited: integer('Answers of 429 (rate limited)'),
  fallbackReasons: {
    type: 'object',
    description: 'Fallback batches by reason',
    additionalProperties: integer(),
  },
  startedAt: dateTime,
  updatedAt: dateTime,
} satisfies Record<keyof JobProgress, Schema>);

const statsSchema = fields({
  totalSeconds: { type: 'number', minimum: 0 },
  classifySeconds: { type: 'number', minimum: 0 },
  ratePerMinute: { type: 'number', minimum: 0, description: 'Rows classified per minute' },
  speedup: {
    type: 'number',
    minimum: 0,
    description: 'The sequential estimate divided by the classification wall time',
  },
  sequentialEstimateSeconds: {
    type: 'number',
    minimum: 0,
    description: 'The sum of request latencies: what one worker would have taken',
  },
  apiCalls: integer(),
  rateLimited: integer(),
  tokens: integer('Prompt and completion tokens'),
  fallbackBatches: integer(),
  fallbackRows: integer(),
} satisfies Record<keyof JobStats, Schema>);

const previewSchema = fields(
  {
    fileName: { type: 'string' },
    format: { enum: ['xlsx', 'csv'] },
    sheets: {
      type: 'array',
      items: fields(
        {
          name: { type: 'string' },
          index: { type: 'integer', minimum: 1, description: '1-based tab index' },
          state: { enum: ['visible', 'hidden', 'veryHidden'] },
          lastRow: integer('The last row of the sheet’s declared range (xlsx, when recorded): a size hint'),
        } satisfies Record<keyof PreviewSheet, Schema>,
        ['lastRow'],
      ),
    },
    sheet: { type: 'string', description: 'The sheet shown' },
    sheetIndex: { type: 'integer', minimum: 1 },
    headerRow: { type: 'integer', minimum: 1, description: 'Absent when the sheet is empty' },
    questionRow: { type: 'integer', minimum: 1, description: 'The row above the header with the questions' },
    columns: {
      type: 'array',
      items: fields(
        {
          letter: { type: 'string' },
          header: { type: 'string' },
          question: { type: 'string' },
        } satisfies Record<keyof PreviewColumn, Schema>,
        ['question'],
      ),
    },
    rows: {
      type: 'array',
      description: 'The first data rows: `cells[i]` belongs to `columns[i]`',
      items: fields({
        row: { type: 'integer', minimum: 1 },
        cells: { type: 'array', items: { type: 'string' } },
      }),
    },
    warnings: {
      type: 'array',
      description:
        'What reading the top of the file noticed (a CSV’s encoding), naming rows among those read',
      items: fields({
        code: { type: 'string' },
        message: { type: 'string' },
        rows: { type: 'array', items: { type: 'integer', minimum: 1 } },
        rowCount: { type: 'integer', minimum: 0 },
      } satisfies Record<keyof SheetWarning, Schema>),
    },
  } satisfies Record<keyof Preview | 'fileName' | 'format', Schema>,
  ['headerRow', 'questionRow'],
);

export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'verbatim',
      version: '0.1.0',
      description:
        'Codes open-ended survey answers from Excel or CSV into categories with an LLM. Each job is a durable Temporal workflow whose id is the job id. Errors are problem documents (RFC 9457 shape); every response carries an `x-request-id` header (the one sent, when it is valid), which a problem repeats as `requestId`.',
    },
    security: [{ bearer: [] }],
    paths: {
      '/healthz': {
        get: {
          summary: 'Health, including the Temporal connection',
          security: [],
          responses: {
            200: {
              description: 'Healthy',
              content: json(fields({ status: { const: 'ok' }, temporal: { const: 'ok' } })),
            },
            503: {
              description: 'Temporal unreachable',
              content: json(fields({ status: { const: 'unavailable' }, temporal: { const: 'unreachable' } })),
            },
          },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          responses: {
            200: {
              description: 'The OpenAPI 3.1 description of the API',
              content: json({
                type: 'object',
                required: ['openapi', 'info', 'paths'],
                additionalProperties: true,
              }),
            },
            401: unauthorized,
          },
        },
      },
      '/settings': {
        get: {
          summary: "The server's job defaults and limits, for forms",
          responses: {
            200: {
              description: 'Defaults (batch size, concurrency, parallel, model, temperature) and limits',
              content: json(
                fields({
                  defaults: fields({
                    batchSize: {
                      oneOf: [{ type: 'integer', minimum: 1, maximum: MAX_BATCH_SIZE }, { const: 'auto' }],
                    },
                    concurrency: { type: 'integer', minimum: 1, maximum: MAX_CONCURRENCY },
                    parallel: { type: 'boolean' },
                    minResponsesForParallel: integer('Fewer answers to classify run one batch at a time'),
                    model: { type: 'string' },
                    temperature: { type: 'number', minimum: 0, maximum: 2 },
                  }),
                  limits: fields({
                    maxUploadBytes: integer(),
                    maxBatchSize: integer(),
                    maxConcurrency: integer(),
                  }),
                  temporalUiUrl: { type: ['string', 'null'] },
                }),
              ),
            },
            401: unauthorized,
          },
        },
      },
      '/jobs': {
        post: {
          summary: 'Start a job: upload a spreadsheet and say which column to code into which categories',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file', 'column', 'categories'],
                  properties: {
                    file: {
                      type: 'string',
                      format: 'binary',
                      description: '.xlsx or .csv, at most MAX_UPLOAD_MB',
                    },
                    column: {
                      type: 'string',
                      description: 'Header text (E2), column letter (E) or the question text',
                    },
                    sheet: {
                      type: 'string',
                      description: 'Sheet name or 1-based index; default the first sheet',
                    },
                    question: {
                      type: 'string',
                      description: 'The survey question, when the header does not say it',
                    },
                    categories: {
                      anyOf: [
                        { type: 'string', description: 'One per line: "Name" or "Name: description"' },
                        { type: 'array', items: { type: 'string' }, description: 'The field repeated' },
                        {
                          type: 'string',
                          format: 'binary',
                          description: 'A text file as above, at most 1 MiB',
                        },
                      ],
                    },
                    batchSize: {
                      oneOf: [{ type: 'integer', minimum: 1, maximum: MAX_BATCH_SIZE }, { const: 'auto' }],
                    },
                    concurrency: { type: 'integer', minimum: 1, maximum: MAX_CONCURRENCY },
                    parallel: { type: 'boolean' },
                    model: { type: 'string' },
                    temperature: { type: 'number', minimum: 0, maximum: 2 },
                  },
                },
              },
            },
          },
          responses: {
            202: {
              description: 'Started',
              headers: { Location: { schema: { type: 'string' }, description: 'The job: /jobs/{id}' } },
              content: json(ref('Started')),
            },
            400: problemResponse(
              `A field is missing, not text or out of range (\`field\` names it), the categories are empty, duplicated or malformed, or ${notAForm}`,
            ),
            401: unauthorized,
            413: tooLarge,
            422: problemResponse(
              'The file is readable but not as asked: sheet or column not found (`available` lists those that exist), or too many categories',
            ),
            500: unexpected,
          },
        },
        get: {
          summary: 'Jobs from Temporal visibility, newest first (by creation), paged',
          description:
            'SQL visibility cannot ORDER BY, so the jobs created before the page token are read and sorted by the API. Each job is listed once, as its latest run; the page token is a cursor (creation time and id of the last job shown), stable while new jobs arrive.',
          parameters: [
            {
              name: 'pageSize',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            },
            { name: 'pageToken', in: 'query', schema: { type: 'string' } },
          ],
          responses: {
            200: { description: 'A page of jobs', content: json(ref('JobList')) },
            400: problemResponse(
              'pageSize is not a whole number from 1 to 100, or pageToken is not one this API gave out (`field` says which)',
            ),
            401: unauthorized,
            500: unexpected,
          },
        },
      },
      '/jobs/preview': {
        post: {
          summary: 'Sheets, header row and first rows of an uploaded file, to pick the column',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file'],
                  properties: { file: { type: 'string', format: 'binary' }, sheet: { type: 'string' } },
                },
              },
            },
          },
          responses: {
            200: { description: 'Preview', content: json(ref('Preview')) },
            400: problemResponse(`The sheet field is not text or too long, or ${notAForm}`),
            401: unauthorized,
            413: tooLarge,
            422: problemResponse('Sheet not found (`available` lists the sheets)'),
            500: unexpected,
          },
        },
      },
      '/jobs/{id}': {
        get: {
          summary: 'Live progress (from the workflow query), and the final stats once done',
          parameters: [idParam],
          responses: {
            200: { description: 'The job', content: json(ref('Job')) },
            401: unauthorized,
            404: unknownJob,
            500: unexpected,
          },
        },
        patch: {
          summary: 'Change concurrency, pause or resume (workflow updates, validated)',
          parameters: [idParam],
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              additionalProperties: false,
              minProperties: 1,
              properties: {
                concurrency: { type: 'integer', minimum: 1, maximum: MAX_CONCURRENCY },
                paused: { type: 'boolean' },
              },
            }),
          },
          responses: {
            200: { description: 'The job after the change', content: json(ref('Job')) },
            400: problemResponse(
              'Invalid change: the body is not JSON, has an unknown field or a value out of range (`field` names it), or the workflow rejected the update (code `update_rejected`)',
            ),
            401: unauthorized,
            404: unknownJob,
            409: problemResponse('The job is not running: only a running job can be changed'),
            500: unexpected,
          },
        },
      },
      '/jobs/{id}/events': {
        get: {
          summary: 'Server-Sent Events: `progress` events until `done` (or `shutdown`, then reconnect)',
          parameters: [idParam],
          responses: {
            200: {
              description:
                '`progress` events (data: a Progress) while the job runs, then one `done` event (data: the Job). When the server shuts down, a `shutdown` event with `retry`: reconnect.',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            401: unauthorized,
            404: unknownJob,
            500: unexpected,
          },
        },
      },
      '/jobs/{id}/result': {
        get: {
          summary: 'The coded workbook (or CSV, with formula-like cells made safe); partial after a cancel',
          parameters: [
            idParam,
            { name: 'format', in: 'query', schema: { enum: ['xlsx', 'csv'], default: 'xlsx' } },
          ],
          responses: {
            200: {
              description:
                'The file, named `<name>.coded.<format>` (`<name>.partial.<format>` after a cancel)',
              headers: { 'Content-Disposition': { schema: { type: 'string' } } },
              content: {
                'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
                  schema: { type: 'string', format: 'binary' },
                },
                'text/csv': { schema: { type: 'string' } },
              },
            },
            400: problemResponse('format is neither xlsx nor csv (field `format`)'),
            401: unauthorized,
            404: unknownJob,
            409: problemResponse(
              'The job is still running, or ended without a result (code `job_not_finished`, `jobStatus` says how it stands)',
            ),
            500: unexpected,
          },
        },
      },
      '/jobs/{id}/cancel': {
        post: {
          summary: 'Cancel: rows already coded are kept in a partial result',
          parameters: [idParam],
          responses: {
            202: { description: 'Cancelling', content: json(ref('Cancelling')) },
            401: unauthorized,
            404: unknownJob,
            409: problemResponse('The job is not running (code `job_not_running`)'),
            500: unexpected,
          },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN, when set' } },
      schemas: {
        Problem: fields(
          {
            type: { type: 'string' },
            status: { type: 'integer' },
            code: {
              type: 'string',
              description: 'Stable, for programs: `column_not_found`, `job_not_found`, …',
            },
            title: { type: 'string' },
            detail: { type: 'string', description: 'What is wrong, for a person to act on' },
            field: { type: 'string', description: 'The request field the problem is about' },
            available: {
              type: 'array',
              items: { type: 'string' },
              description: 'Sheets or columns that exist',
            },
            requestId: { type: 'string' },
            jobStatus: { $ref: '#/components/schemas/JobStatus' },
          },
          ['field', 'available', 'requestId', 'jobStatus'],
        ),
        Links: fields(
          {
            self: { type: 'string' },
            events: { type: 'string' },
            result: { type: 'string' },
            cancel: { type: 'string' },
            temporal: {
              type: 'string',
              description: 'The job in the Temporal UI, when TEMPORAL_UI_URL is set',
            },
          },
          ['temporal'],
        ),
        Started: fields({ jobId: { type: 'string' }, status: { const: 'RUNNING' }, links: ref('Links') }),
        Cancelling: fields({
          jobId: { type: 'string' },
          status: { const: 'CANCELLING' },
          links: ref('Links'),
        }),
        JobStatus: {
          enum: STATUSES,
          description:
            "The job's workflow execution status in Temporal: RUNNING until the job ends. PAUSED, UNSPECIFIED and UNKNOWN are Temporal's and not expected for a job.",
        },
        Progress: { ...progressSchema, description: 'The workflow progress query' },
        JobStats: { ...statsSchema, description: 'The stats block of a finished (or cancelled) job' },
        Job: fields(
          {
            jobId: { type: 'string' },
            status: ref('JobStatus'),
            fileName: { type: 'string' },
            column: { type: 'string', description: 'The column asked for' },
            simulated: {
              type: ['boolean', 'null'],
              description: 'A dry run against the simulator (no API key); null when not known',
            },
            createdAt: dateTime,
            closedAt: { type: ['string', 'null'], format: 'date-time' },
            progress: nullable(ref('Progress')),
            stats: {
              ...nullable(ref('JobStats')),
              description: 'Once the job has completed or been cancelled',
            },
            error: { type: 'string', description: 'Why the job failed (FAILED only)' },
            links: ref('Links'),
          },
          ['fileName', 'column', 'error'],
        ),
        JobListItem: fields({
          jobId: { type: 'string' },
          status: ref('JobStatus'),
          fileName: { type: ['string', 'null'] },
          column: { type: ['string', 'null'] },
          phase: { enum: [...PHASES, null], description: 'Search attribute VerbatimPhase' },
          rows: {
            type: ['integer', 'null'],
            minimum: 0,
            description: 'Data rows of the sheet, once prepared',
          },
          fallbacks: {
            type: ['integer', 'null'],
            minimum: 0,
            description: 'Batches that could not be coded after their retries (not rows)',
          },
          createdAt: { type: ['string', 'null'], format: 'date-time' },
          closedAt: { type: ['string', 'null'], format: 'date-time' },
          links: ref('Links'),
        }),
        JobList: fields({
          jobs: { type: 'array', items: ref('JobListItem') },
          nextPageToken: { type: ['string', 'null'] },
        }),
        Preview: previewSchema,
      },
    },
  };
}
