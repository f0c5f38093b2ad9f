/** The API described for clients and tools (served at /openapi.json). Hand-written: the API is small. */

const problem = { $ref: '#/components/schemas/Problem' };
const json = (schema: object) => ({ 'application/json': { schema } });
const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: problem } },
});
const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{2,99}$' },
};

export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'verbatim',
      version: '0.1.0',
      description:
        'Codes open-ended survey answers from Excel or CSV into categories with an LLM. Each job is a durable Temporal workflow whose id is the job id.',
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
              content: json({
                type: 'object',
                properties: { status: { const: 'ok' }, temporal: { const: 'ok' } },
              }),
            },
            503: { description: 'Temporal unreachable' },
          },
        },
      },
      '/settings': {
        get: {
          summary: "The server's job defaults and limits, for forms",
          responses: {
            200: {
              description: 'Defaults (batch size, concurrency, parallel, model, temperature) and limits',
              content: json({
                type: 'object',
                properties: {
                  defaults: { type: 'object' },
                  limits: {
                    type: 'object',
                    properties: {
                      maxUploadBytes: { type: 'integer' },
                      maxBatchSize: { type: 'integer' },
                      maxConcurrency: { type: 'integer' },
                    },
                  },
                  temporalUiUrl: { type: ['string', 'null'] },
                },
              }),
            },
            401: problemResponse('No or wrong bearer token'),
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
                      oneOf: [
                        { type: 'string', description: 'One per line: "Name" or "Name: description"' },
                        { type: 'array', items: { type: 'string' } },
                      ],
                    },
                    batchSize: { oneOf: [{ type: 'integer', minimum: 1, maximum: 200 }, { const: 'auto' }] },
                    concurrency: { type: 'integer', minimum: 1, maximum: 200 },
                    parallel: { type: 'boolean' },
                    model: { type: 'string' },
                    temperature: { type: 'number', minimum: 0, maximum: 2 },
                  },
                },
              },
            },
          },
          responses: {
            202: { description: 'Started', content: json({ $ref: '#/components/schemas/Started' }) },
            400: problemResponse('A field is missing or out of range, or the file is not a spreadsheet'),
            401: problemResponse('No or wrong bearer token'),
            413: problemResponse('The upload is over the size limit'),
            422: problemResponse('Sheet or column not found (the problem lists those that exist)'),
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
            200: { description: 'A page of jobs', content: json({ $ref: '#/components/schemas/JobList' }) },
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
            200: { description: 'Preview' },
            400: problemResponse('Not a spreadsheet'),
            422: problemResponse('Sheet not found'),
          },
        },
      },
      '/jobs/{id}': {
        get: {
          summary: 'Live progress (from the workflow query), and the final stats once done',
          parameters: [idParam],
          responses: {
            200: { description: 'The job', content: json({ $ref: '#/components/schemas/Job' }) },
            404: problemResponse('Unknown job'),
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
              properties: {
                concurrency: { type: 'integer', minimum: 1, maximum: 200 },
                paused: { type: 'boolean' },
              },
            }),
          },
          responses: {
            200: {
              description: 'The job after the change',
              content: json({ $ref: '#/components/schemas/Job' }),
            },
            400: problemResponse('Invalid change'),
            404: problemResponse('Unknown job'),
            409: problemResponse('The job is not running'),
          },
        },
      },
      '/jobs/{id}/events': {
        get: {
          summary: 'Server-Sent Events: `progress` events until `done` (or `shutdown`, then reconnect)',
          parameters: [idParam],
          responses: {
            200: {
              description: 'text/event-stream',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            404: problemResponse('Unknown job'),
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
              description: 'The file',
              content: {
                'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
                  schema: { type: 'string', format: 'binary' },
                },
                'text/csv': { schema: { type: 'string' } },
              },
            },
            404: problemResponse('Unknown job'),
            409: problemResponse('The job is still running, or ended without a result'),
          },
        },
      },
      '/jobs/{id}/cancel': {
        post: {
          summary: 'Cancel: rows already coded are kept in a partial result',
          parameters: [idParam],
          responses: {
            202: { description: 'Cancelling' },
            404: problemResponse('Unknown job'),
            409: problemResponse('Not running'),
          },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN, when set' } },
      schemas: {
        Problem: {
          type: 'object',
          required: ['status', 'code', 'title', 'detail'],
          properties: {
            type: { type: 'string' },
            status: { type: 'integer' },
            code: { type: 'string' },
            title: { type: 'string' },
            detail: { type: 'string' },
            field: { type: 'string', description: 'The request field the problem is about' },
            available: {
              type: 'array',
              items: { type: 'string' },
              description: 'Sheets or columns that exist',
            },
            requestId: { type: 'string' },
            jobStatus: {
              type: 'string',
              description: "The job's workflow status, when the problem is about it (409)",
            },
          },
        },
        Links: {
          type: 'object',
          properties: {
            self: { type: 'string' },
            events: { type: 'string' },
            result: { type: 'string' },
            cancel: { type: 'string' },
            temporal: { type: 'string', description: 'The job in the Temporal UI' },
          },
        },
        Started: {
          type: 'object',
          properties: {
            jobId: { type: 'string' },
            status: { type: 'string' },
            links: { $ref: '#/components/schemas/Links' },
          },
        },
        Progress: {
          type: 'object',
          description:
            'The workflow progress query: phase, rows, batches, window, rate per minute, ETA, tokens, API calls, 429s',
        },
        Job: {
          type: 'object',
          properties: {
            jobId: { type: 'string' },
            status: {
              enum: [
                'RUNNING',
                'COMPLETED',
                'FAILED',
                'CANCELLED',
                'TERMINATED',
                'TIMED_OUT',
                'CONTINUED_AS_NEW',
              ],
            },
            fileName: { type: 'string' },
            createdAt: { type: 'string', format: 'date-time' },
            closedAt: { type: ['string', 'null'], format: 'date-time' },
            progress: { oneOf: [{ $ref: '#/components/schemas/Progress' }, { type: 'null' }] },
            stats: { type: ['object', 'null'] },
            error: { type: 'string' },
            links: { $ref: '#/components/schemas/Links' },
          },
        },
        JobList: {
          type: 'object',
          properties: {
            jobs: { type: 'array', items: { type: 'object' } },
            nextPageToken: { type: ['string', 'null'] },
          },
        },
      },
    },
  };
}
