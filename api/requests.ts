/**
 * What the API accepts, as zod schemas the routes validate with (and `/openapi.json` describes). Every
 * message is whole, for a person: the `defaultHook` (api/problem.ts) sends every issue in one 400 problem
 * naming the first one's field, with the `code` a custom issue carries (`file_missing`, `out_of_range`, …)
 * or `invalid_field`, and all of them under `errors`.
 */
import { z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Category } from '../domain/categories.js';
import { categoriesFromList, parseCategories } from '../domain/categories.js';
import { MAX_BATCH_SIZE } from '../domain/batching.js';
import { CODEFRAME_SETTING_LIMITS, DEFAULT_CODEFRAME_SETTINGS } from '../domain/codeframe-job.js';
import { parseBanner } from '../domain/crosstab.js';
import { DomainError } from '../domain/errors.js';
import { MAX_EXAMPLES_FROM_GOLD } from '../domain/examples.js';
import { MAX_CODES_LIMIT } from '../domain/prompt.js';
import { MAX_COST_LIMIT } from '../domain/cost.js';
import type { JobCursor } from '../jobs/service.js';
import { booleanText } from '../lib/config.js';
import { MAX_CONCURRENCY } from '../workflows/definitions.js';
import { badRequest } from './problem.js';

const NO_FILE = 'no file uploaded: send the spreadsheet as multipart/form-data field "file"';
const NO_COLUMN = 'no column given: a header such as E2, a column letter, or the question text';

/** A custom issue: its message whole, its problem code carried in `params`. */
function refuse(ctx: z.RefinementCtx, message: string, code = 'invalid_field'): never {
  ctx.addIssue({ code: 'custom', message, params: { code } });
  return z.NEVER;
}

/** A form field sent more than once counts by its first value (categories excepted). */
const first = (value: unknown): unknown => (Array.isArray(value) ? (value as unknown[])[0] : value);

/** An optional text field: trimmed, absent when empty, at most `max` characters, never a file. */
function text(field: string, max: number, description?: string) {
  return z
    .preprocess(
      first,
      z
        .string({ error: `${field} must be text, not a file` })
        .trim()
        .max(max, `${field} is longer than ${max} characters`)
        .optional(),
    )
    .transform((value) => value || undefined)
    .openapi(description ? { description } : {});
}

/** The uploaded spreadsheet: a file part that is not empty. */
const upload = z
  .preprocess(
    first,
    z.custom<File>((value) => value instanceof File, { error: NO_FILE, params: { code: 'file_missing' } }),
  )
  .check((ctx) => {
    if (ctx.value.size === 0) {
      ctx.issues.push({
        code: 'custom',
        message: `the uploaded file ${JSON.stringify(ctx.value.name)} is empty`,
        input: ctx.value,
        params: { code: 'file_empty' },
      });
    }
  })
  .openapi({ type: 'string', format: 'binary', description: '.xlsx or .csv, at most MAX_UPLOAD_MB' });

/** Categories may come as a text file part (`-F categories=@categories.txt`) as well as typed text. */
const MAX_CATEGORIES_FILE_BYTES = 1024 * 1024;

/** The categories read, and the text they were read from (kept with the job, to start it again). */
export interface GivenCategories {
  readonly list: Category[];
  readonly text: string;
}

/**
 * Categories as text (one per line, "Name" or "Name: description", optionally led by a code, `[Net]` lines
 * starting nets), a JSON list, repeated fields or a file.
 */
const categories = z
  .union(
    [
      z.string().openapi({
        description:
          'One per line: "Name" or "Name: description", optionally led by a numeric code ("101 Price"); a line "[Net name]" starts a net. Or a JSON array of names.',
      }),
      z.array(z.string()).openapi({ description: 'The field repeated' }),
      z
        .instanceof(File)
        .openapi({ type: 'string', format: 'binary', description: 'A text file as above, at most 1 MiB' }),
    ],
    {
      error: (issue) =>
        issue.input === undefined
          ? 'no categories given: one per line, "Name" or "Name: description"'
          : 'categories must be text',
    },
  )
  .transform(async (value, ctx): Promise<GivenCategories> => {
    try {
      // The repeated field's values are read as lines of the text form: as text, one a line.
      if (Array.isArray(value))
        return { list: categoriesFromList(value, 'categories'), text: value.join('\n') };
      if (value instanceof File && value.size > MAX_CATEGORIES_FILE_BYTES) {
        return refuse(ctx, 'the categories file is larger than 1 MiB');
      }
      // Line ends as `\n`: a form sends its text fields' as `\r\n`.
      const text = (value instanceof File ? await value.text() : value).trim().replace(/\r\n?/g, '\n');
      // A JSON list only when the text parses as JSON: a codeframe's first line may be a net (`[Service]`).
      const json = text.startsWith('[') ? parseJson(text) : undefined;
      if (json !== undefined) {
        const list = z.array(z.string()).safeParse(json);
        if (!list.success) return refuse(ctx, 'categories given as JSON must be an array of strings');
        return { list: categoriesFromList(list.data, 'categories'), text };
      }
      return { list: parseCategories(text, 'categories'), text };
    } catch (error) {
      // Empty, duplicated or malformed categories: the domain's own code and words.
      if (error instanceof DomainError) return refuse(ctx, error.message, error.code);
      throw error;
    }
  });

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** Plain decimal text (`12`, `0.5`, `-1`), as the CLI reads numbers: `0x10`, `1e3` and `Infinity` are refused. */
const PLAIN_NUMBER = /^-?(?:\d+(?:\.\d+)?|\.\d+)$/;

/** A number typed in a form (or sent in JSON), read only from plain decimal text, then checked by `check`. */
function plainNumber(check: z.ZodNumber) {
  return z.string().regex(PLAIN_NUMBER).transform(Number).pipe(check);
}

/**
 * A job setting given as form text: checked by `schema`, refused as `field="value": must be <range>`
 * (out_of_range), the allowed values said in a person's words whatever the check that failed.
 * Each is described whole with `.openapi({ type, … })`: a `type` keeps the generator from describing the
 * text it arrives as.
 */
function setting<T>(field: string, schema: z.ZodType<T>, allowed: string) {
  return text(field, 100).transform((raw, ctx): T | undefined => {
    if (raw === undefined) return undefined;
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    return refuse(ctx, `${field}=${JSON.stringify(raw)}: must be ${allowed}`, 'out_of_range');
  });
}

/** The answer column: its header, its letter or the question text. */
const column = z
  .preprocess(
    first,
    z
      .string({
        error: (issue) => (issue.input === undefined ? NO_COLUMN : 'column must be text, not a file'),
      })
      .trim()
      .min(1, NO_COLUMN)
      .max(500, 'column is longer than 500 characters'),
  )
  .openapi({ description: 'Header text (E2), column letter (E) or the question text' });

/** Settings a draft shares with a job: the window, the model and its temperature. */
const concurrency = setting(
  'concurrency',
  plainNumber(z.number().int().min(1).max(MAX_CONCURRENCY)),
  `a whole number from 1 to ${MAX_CONCURRENCY}`,
).openapi({ type: 'integer', minimum: 1, maximum: MAX_CONCURRENCY });
const temperature = setting(
  'temperature',
  plainNumber(z.number().min(0).max(2)),
  'a number from 0 to 2',
).openapi({
  type: 'number',
  minimum: 0,
  maximum: 2,
});
const modelName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[\w.:/-]+$/);
const model = setting(
  'model',
  modelName,
  'a model name such as gpt-4o-mini (letters, digits and . : / - _)',
).openapi({ type: 'string', maxLength: 100 });

/** At most this many banners a request: each is a table. */
export const MAX_BANNERS = 10;

/**
 * Banner columns for the tables by segment: the field repeated, or one a line; each a column (header, letter
 * or question text), optionally `=` and groups of a numeric column (`NPS=0-6:Detractors,7-8:Passives,9-10:Promoters`).
 */
const by = z
  .union([z.string(), z.array(z.string())], { error: 'by must be text: a column, or column=groups' })
  .optional()
  .transform((value, ctx): string[] | undefined => {
    const lines = (Array.isArray(value) ? value : [value ?? ''])
      .flatMap((v) => v.split(/\r?\n/))
      .map((v) => v.trim())
      .filter((v) => v !== '');
    if (lines.length === 0) return undefined;
    if (lines.length > MAX_BANNERS)
      return refuse(ctx, `by: at most ${MAX_BANNERS} banners, got ${lines.length}`);
    for (const line of lines) {
      if (line.length > 1_000)
        return refuse(
          ctx,
          `by: the banner ${JSON.stringify(line.slice(0, 40))}… is longer than 1000 characters`,
        );
      try {
        parseBanner(line);
      } catch (error) {
        if (error instanceof DomainError) return refuse(ctx, `by: ${error.message}`, error.code);
        throw error;
      }
    }
    return lines;
  })
  .openapi({
    type: 'array',
    items: { type: 'string' },
    description:
      'Banner columns for the Tables sheet (repeat the field, or one a line): a header, letter or question text, optionally `=` and ranges of a numeric column, each named after `:` or `=`: `NPS=0-6:Detractors,7-8:Passives,9-10:Promoters` (`NPS=nps` is the same)',
  });

const JOB_ID_DESCRIPTION =
  'Instead of `file`: the id of a job (as POST /jobs answered it) whose stored upload is read, so the file is not sent again';
const NO_SOURCE =
  'no file uploaded: send the spreadsheet as multipart/form-data field "file", or the jobId of a job started with it';
const BOTH_SOURCES =
  'both a file and a jobId: send the spreadsheet, or the jobId of a job whose file to read, not both';

/** Where a form's spreadsheet comes from: the upload, or the stored upload of the job named by `jobId`. */
const source = {
  file: upload.optional(),
  jobId: text('jobId', 100, JOB_ID_DESCRIPTION),
};

/**
 * Whether the body is an object whose file and jobId fields passed their own checks: only then is it said
 * that both or neither came (the object's refinements run despite other fields' issues, so that the form
 * is refused for all its faults at once).
 */
const sourceChecked = (payload: {
  value: unknown;
  issues: ReadonlyArray<{ path?: readonly PropertyKey[] }>;
}) =>
  typeof payload.value === 'object' &&
  payload.value !== null &&
  !payload.issues.some((issue) => !issue.path?.length || ['file', 'jobId'].includes(String(issue.path[0])));

/** A form with `source`'s fields, refused when it sends both (`conflicting_fields`) or neither (`file_missing`). */
function oneSource<S extends z.ZodObject<typeof source & z.ZodRawShape>>(form: S): S {
  return form
    .refine(
      (value: { file?: File | undefined; jobId?: string | undefined }) => !(value.file && value.jobId),
      {
        path: ['jobId'],
        message: BOTH_SOURCES,
        params: { code: 'conflicting_fields' },
        when: sourceChecked,
      },
    )
    .refine((value: { file?: File | undefined; jobId?: string | undefined }) => value.file ?? value.jobId, {
      path: ['file'],
      message: NO_SOURCE,
      params: { code: 'file_missing' },
      when: sourceChecked,
    });
}

/** A JSON number, boolean or text, as the form takes it: the form's own check then reads it (`"12"` and `12` alike). */
const asText = (value: unknown) =>
  typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;

/** Each field of a form but its source, reading JSON values as the form's text. */
type JsonFields<S extends z.ZodRawShape> = {
  [K in Exclude<keyof S, keyof typeof source>]: z.ZodPipe<z.ZodTransform<unknown, unknown>, S[K]>;
};

/**
 * A form's JSON twin, for a job's upload (JSON carries no file): `jobId` required, every other field but
 * `file` checked as the form checks it, numbers and booleans as JSON has them, unknown fields refused.
 */
function fromJob<S extends z.ZodRawShape>(shape: S) {
  const fields = Object.fromEntries(
    Object.entries(shape)
      .filter(([name]) => !(name in source))
      .map(([name, field]) => [name, z.preprocess(asText, field)]),
  ) as JsonFields<S>;
  return z.strictObject(
    {
      jobId: z
        .string({
          error: (issue) =>
            issue.input === undefined
              ? 'no jobId given: a JSON body names the job whose uploaded file to read (or send the file as multipart/form-data)'
              : 'jobId must be text',
        })
        .trim()
        .min(1, 'jobId is empty')
        .max(100, 'jobId is longer than 100 characters')
        .openapi({ description: 'The id of a job (as POST /jobs answered it) whose uploaded file to read' }),
      ...fields,
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? issue.keys[0] === 'file'
            ? 'JSON carries no file: send the spreadsheet as multipart/form-data, or name a job that has it with jobId'
            : `unknown field ${JSON.stringify(issue.keys[0])}`
          : undefined,
    },
  );
}

const sheet = text('sheet', 200, 'Sheet name or 1-based index; default the first sheet');

/** `POST /jobs`: the spreadsheet, which column to code into which categories, and the job's settings. */
export const JobFormSchema = oneSource(
  z.object({
    ...source,
    column,
    sheet,
    goldColumn: text(
      'goldColumn',
      500,
      'A column coded by hand (header, letter or question text): never sent to the model, compared with its codes in the Quality and Review sheets',
    ),
    question: text('question', 2_000, 'The survey question, when the header does not say it'),
    categories,
    by,
    batchSize: setting(
      'batchSize',
      z.union([z.literal('auto'), plainNumber(z.number().int().min(1).max(MAX_BATCH_SIZE))]),
      `a whole number from 1 to ${MAX_BATCH_SIZE}, or auto`,
    ).openapi({
      type: ['integer', 'string'],
      oneOf: [{ type: 'integer', minimum: 1, maximum: MAX_BATCH_SIZE }, { const: 'auto' }],
    }),
    concurrency,
    temperature,
    model,
    parallel: setting('parallel', booleanText, 'true or false').openapi({ type: 'boolean' }),
    name: text('name', 200, 'A name for the job card and the list; default the file and column'),
    multi: setting('multi', booleanText, 'true or false').openapi({
      type: 'boolean',
      description: 'Every category that applies to an answer, not one (default MULTI_CODE)',
    }),
    maxCodes: setting(
      'maxCodes',
      plainNumber(z.number().int().min(1).max(MAX_CODES_LIMIT)),
      `a whole number from 1 to ${MAX_CODES_LIMIT}`,
    ).openapi({
      type: 'integer',
      minimum: 1,
      maximum: MAX_CODES_LIMIT,
      description: 'With multi: the most categories an answer keeps (default MAX_CODES)',
    }),
    maxCost: setting(
      'maxCost',
      plainNumber(z.number().positive().max(MAX_COST_LIMIT)),
      `a number of dollars above 0, at most ${MAX_COST_LIMIT.toLocaleString('en-US')}`,
    ).openapi({
      type: 'number',
      exclusiveMinimum: 0,
      maximum: MAX_COST_LIMIT,
      description:
        'USD: the job holds any request that would take its cost over this, until raised (PATCH) or cancelled (default MAX_COST)',
    }),
    batchApi: setting('batchApi', booleanText, 'true or false').openapi({
      type: 'boolean',
      description:
        "Through OpenAI's Batch API: half price, done within 24 hours, waited on durably (default OPENAI_BATCH_API)",
    }),
    reviewModel: setting(
      'reviewModel',
      modelName,
      'a model name such as gpt-4.1 (letters, digits and . : / - _)',
    ).openapi({
      type: 'string',
      maxLength: 100,
      description:
        'A second model that codes again the answers whose confidence is under REVIEW_BELOW; its label is kept (default REVIEW_MODEL)',
    }),
    examplesFromGold: setting(
      'examplesFromGold',
      plainNumber(z.number().int().min(1).max(MAX_EXAMPLES_FROM_GOLD)),
      `a whole number from 1 to ${MAX_EXAMPLES_FROM_GOLD}`,
    ).openapi({
      type: 'integer',
      minimum: 1,
      maximum: MAX_EXAMPLES_FROM_GOLD,
      description:
        'With goldColumn: up to this many hand-coded answers per category go into the instructions as examples; those rows are left out of the agreement',
    }),
    force: setting('force', booleanText, 'true or false').openapi({
      type: 'boolean',
      description: 'Code even when an identical job is running or done (else that job is answered, 200)',
    }),
  }),
);

/** `POST /jobs` (and its estimate) as JSON: the spreadsheet a job uploaded before, named by `jobId`. */
export const JobJsonSchema = fromJob(JobFormSchema.shape).openapi('JobFromJob');

/** `POST /jobs/preview`: the spreadsheet (or the id of a job that uploaded it), and the sheet to show. */
export const PreviewFormSchema = oneSource(z.object({ ...source, sheet }));

/** `POST /jobs/preview` as JSON: a job's upload. */
export const PreviewJsonSchema = fromJob(PreviewFormSchema.shape).openapi('PreviewFromJob');

/** What a PATCH may change. */
const CHANGES = '"concurrency", "paused" and/or "maxCost"';

/** A message naming the field and the value sent: `concurrency=0: must be at least 1`. */
const about = (field: string, why: string) => ({
  error: (issue: { input?: unknown }) => `${field}=${JSON.stringify(issue.input)}: ${why}`,
});

/**
 * The body of `PATCH /jobs/:id`. JSON has numbers and booleans, so nothing is coerced here: `"4"`, `true` or
 * `null` for the concurrency is a mistake to report, not a number (coercion would turn `true` into 1).
 */
export const PatchSchema = z
  .strictObject(
    {
      concurrency: z
        .number(about('concurrency', 'must be a number'))
        .int(about('concurrency', 'must be a whole number'))
        .min(1, about('concurrency', 'must be at least 1'))
        .max(MAX_CONCURRENCY, about('concurrency', `must be at most ${MAX_CONCURRENCY}`))
        .optional(),
      paused: z.boolean(about('paused', 'must be true or false (a JSON boolean)')).optional(),
      maxCost: z
        .number(about('maxCost', 'must be a number of dollars, or null to lift the cap'))
        .positive(about('maxCost', 'must be above 0'))
        .max(MAX_COST_LIMIT, about('maxCost', `must be at most ${MAX_COST_LIMIT.toLocaleString('en-US')}`))
        .nullable()
        .optional()
        .openapi({ description: 'The cost cap in USD (null lifts it): a job held at its cap goes on' }),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown field ${JSON.stringify(issue.keys[0])}: give ${CHANGES}`
          : undefined,
    },
  )
  .refine(
    (v) => v.concurrency !== undefined || v.paused !== undefined || v.maxCost !== undefined,
    `give ${CHANGES}`,
  )
  .openapi({ minProperties: 1 });

const PAGE_SIZE = 'pageSize must be a whole number from 1 to 100';

/** `GET /jobs`: a page size, and the token of the page before. */
export const ListQuerySchema = z.object({
  pageSize: z.coerce
    .number({ error: PAGE_SIZE })
    .int(PAGE_SIZE)
    .min(1, PAGE_SIZE)
    .max(100, PAGE_SIZE)
    .default(20),
  pageToken: z
    .string()
    .optional()
    .transform((token, ctx): JobCursor | undefined => {
      if (!token) return undefined;
      return (
        decodeCursor(token) ?? refuse(ctx, 'pageToken is not one this API gave out: start again without it')
      );
    })
    .openapi({ description: 'The `nextPageToken` of the page before' }),
});

/** A page token: the cursor of the last job shown, opaque to clients. */
export function encodeCursor(cursor: JobCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.createdAt.getTime(), id: cursor.jobId })).toString(
    'base64url',
  );
}

function decodeCursor(token: string): JobCursor | undefined {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      t?: unknown;
      id?: unknown;
    };
    if (typeof value.t === 'number' && Number.isFinite(value.t) && typeof value.id === 'string') {
      return { createdAt: new Date(value.t), jobId: value.id };
    }
  } catch {
    // not a token of ours
  }
  return undefined;
}

/** `GET /jobs/:id/result`: the coded workbook or its CSV. */
export const ResultQuerySchema = z.object({
  format: z.enum(['xlsx', 'csv', 'sav'], { error: 'format must be xlsx, csv or sav' }).default('xlsx'),
});

/** `GET /jobs/:id/tables`: the banners, else those the job was started with. */
export const TablesQuerySchema = z.object({ by });

/** The job in the path. Ids are checked by the job service: an id no job can have is no job (404). */
export const JobParamsSchema = z.object({
  id: z.string().openapi({
    param: { name: 'id', in: 'path' },
    description: 'The job id (the workflow id): letters, digits, `-` and `_`',
  }),
});

const mediaType = (header: string | undefined) => header?.split(';')[0]?.trim().toLowerCase() ?? '';
export const isJson = (header: string | undefined) =>
  /^application\/([\w.-]+\+)?json$/.test(mediaType(header));

/**
 * Reads a form body before it is validated (the validator reuses what is read), with the API's own problems:
 * a body that is not a form has no file, and one that cannot be parsed (no boundary, a cut-off upload) is
 * the client's mistake, not a server error. Errors of the upload limit pass through.
 */
export const formBody: MiddlewareHandler = async (c, next) => {
  const type = mediaType(c.req.header('content-type'));
  if (type !== 'multipart/form-data' && type !== 'application/x-www-form-urlencoded') {
    throw badRequest('file', NO_FILE, 'file_missing');
  }
  try {
    await c.req.parseBody({ all: true });
  } catch (error) {
    if (error instanceof HTTPException) throw error;
    throw badRequest(
      'body',
      'the request body is not valid multipart/form-data: send the spreadsheet as field "file" of a form',
      'invalid_body',
    );
  }
  await next();
};

/**
 * `formBody`, or a JSON body (a draft from a job's upload sends no file), read before it is validated: JSON
 * that does not parse is the client's mistake, named as the body.
 */
export const formOrJsonBody: MiddlewareHandler = async (c, next) => {
  if (!isJson(c.req.header('content-type'))) return formBody(c, next);
  const parsed = await c.req.json().then(
    () => true,
    () => false,
  );
  if (!parsed) {
    throw badRequest(
      'body',
      'the body is not valid JSON: send {"jobId": "…", "column": "…"}, or the spreadsheet as multipart/form-data',
      'invalid_body',
    );
  }
  await next();
};

/** Reads a JSON body before it is validated, refusing anything else with a problem that names the body. */
export const jsonBody: MiddlewareHandler = async (c, next) => {
  if (
    !isJson(c.req.header('content-type')) ||
    !(await c.req.json().then(
      () => true,
      () => false,
    ))
  ) {
    throw badRequest('body', 'the body must be JSON, such as {"paused": true} or {"concurrency": 8}');
  }
  await next();
};

/** A whole-number draft setting, checked against the domain's limits for it. */
function wholeDraftSetting(
  name: 'maxCodes' | 'readCap' | 'readTokens' | 'measureSample' | 'seed',
  what: string,
) {
  const [min, max] = CODEFRAME_SETTING_LIMITS[name];
  return setting(
    name,
    plainNumber(z.number().int().min(min).max(max)),
    `a whole number from ${min} to ${max}`,
  ).openapi({
    type: 'integer',
    minimum: min,
    maximum: max,
    description: `${what} (default ${DEFAULT_CODEFRAME_SETTINGS[name]})`,
  });
}

const [MIN_SHARE, MAX_SHARE] = CODEFRAME_SETTING_LIMITS.minShare;

/** The draft's settings, as form text (each checked and refused as the job form's are; the CLI's flags). */
const draftSettings = {
  maxCodes: wholeDraftSetting('maxCodes', 'At most this many codes besides Other'),
  minShare: setting(
    'minShare',
    plainNumber(z.number().min(MIN_SHARE).max(MAX_SHARE)),
    `a share from ${MIN_SHARE} to ${MAX_SHARE} (0.01 is 1 %)`,
  ).openapi({
    type: 'number',
    minimum: MIN_SHARE,
    maximum: MAX_SHARE,
    description: 'Codes under this share of answers fold into Other (default 0.01)',
  }),
  readCap: wholeDraftSetting(
    'readCap',
    'Unique answers read for themes; beyond it, a sample weighted by how often each answer is given',
  ),
  readTokens: wholeDraftSetting('readTokens', 'Tokens of the answers read for themes, however long they are'),
  measureSample: wholeDraftSetting('measureSample', 'Answers coded to estimate the shares and the coverage'),
  seed: wholeDraftSetting('seed', 'Seeds both samples: the same seed reads the same answers'),
  concurrency,
  temperature,
  model,
};

/**
 * `POST /codeframes` as a form: the spreadsheet (or the id of a job that uploaded it), the answer column, and
 * how the draft is made.
 */
export const CodeframeFormSchema = oneSource(
  z.object({
    ...source,
    column,
    sheet,
    question: text('question', 2_000, 'The survey question, when the header does not say it'),
    ...draftSettings,
  }),
);

/**
 * `POST /codeframes` as JSON: a job's upload needs no form. The same fields as the form but `file` (JSON
 * carries no file), checked the same way; numbers may be JSON numbers.
 */
export const CodeframeJsonSchema = fromJob(CodeframeFormSchema.shape).openapi('CodeframeFromJob');

/** The draft in the path. Ids are checked by the service: an id no draft can have is no draft (404). */
export const CodeframeParamsSchema = z.object({
  id: z.string().openapi({
    param: { name: 'id', in: 'path' },
    description: 'The draft id (the workflow id, `cf-…`)',
  }),
});

/** `GET /codeframes/:id/result`: the categories file or its table. */
export const CodeframeResultQuerySchema = z.object({
  format: z.enum(['txt', 'xlsx'], { error: 'format must be txt or xlsx' }).default('txt'),
});
