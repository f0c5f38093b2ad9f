/**
 * What the API answers, as zod schemas: the routes (api/routes.ts) declare them, `/openapi.json` is generated
 * from them. Each schema of a type the API passes on (a job's progress and stats, the job service's views, a
 * preview) is checked against that type (`Shape`), so a field added to the type fails the type-check until
 * it is described here; test/api/service.test.ts checks statuses and bodies against real answers.
 */
import { z } from '@hono/zod-openapi';
import { MAX_BATCH_SIZE } from '../domain/batching.js';
import type { ConfidenceSplit } from '../domain/agreement.js';
import type { BannerTable } from '../domain/banner-tables.js';
import type { Crosstab, CrosstabCell, CrosstabColumn, CrosstabLine } from '../domain/crosstab.js';
import { MAX_CODES_LIMIT } from '../domain/prompt.js';
import type { BatchApiProgress } from '../domain/batch-api.js';
import type { JobProgress, JobStats } from '../domain/job.js';
import type { CostEstimate, JobCost } from '../domain/cost.js';
import type { Cost } from '../domain/prices.js';
import type { FirstModelFigures, NotCompared, QualitySummary } from '../domain/quality.js';
import type { ResultSummary } from '../domain/report.js';
import type { CodeframeCode, CodeframeNet, CodeframeReport } from '../domain/codeframe-file.js';
import type { CodeframePhase, CodeframeProgress } from '../domain/codeframe-job.js';
import type { CodeframeDescription } from '../jobs/codeframes.js';
import { SHEET_FORMATS } from '../domain/sheet-format.js';
import type { SheetWarning } from '../domain/sheet-warnings.js';
import type { JobDescription, JobStart, JobSummary } from '../jobs/service.js';
import { JOB_PHASES, JOB_STATUSES } from '../jobs/service.js';
import type { Preview, PreviewColumn, PreviewSheet } from '../sheets/index.js';
import { MAX_CONCURRENCY } from '../workflows/definitions.js';

/** A schema for each key of `T` (optional keys too), whose values `T` accepts. */
type Shape<T> = { [K in keyof T]-?: z.ZodType<T[K]> };

const count = (description?: string) => {
  const schema = z.number().int().min(0);
  return description ? schema.openapi({ description }) : schema;
};
const dateTime = z.string().openapi({ format: 'date-time' });

/** Every phase a draft's progress goes through: keyed by the type, so a new phase fails the type-check. */
const CODEFRAME_PHASES = Object.keys({
  reading: 0,
  extracting: 0,
  merging: 0,
  describing: 0,
  measuring: 0,
  writing: 0,
  done: 0,
  cancelled: 0,
  failed: 0,
} satisfies Record<CodeframePhase, 0>) as [CodeframePhase, ...CodeframePhase[]];

export const JobStatusSchema = z.enum(JOB_STATUSES).openapi('JobStatus', {
  description:
    "The job's workflow execution status in Temporal: RUNNING until the job ends. PAUSED: paused in Temporal (it has not ended). UNSPECIFIED and UNKNOWN are Temporal's and not expected for a job.",
});

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().openapi({ description: 'Stable, for programs: `column_not_found`, `job_not_found`, …' }),
    detail: z.string().openapi({ description: 'What is wrong, for a person to act on' }),
    field: z.string().optional().openapi({ description: 'The request field the problem is about' }),
    available: z.array(z.string()).optional().openapi({ description: 'Sheets or columns that exist' }),
    requestId: z.string().optional(),
    jobStatus: JobStatusSchema.optional(),
    errors: z
      .array(z.object({ field: z.string(), code: z.string(), detail: z.string() }))
      .optional()
      .openapi({ description: 'Every refused field of a request that failed validation, in form order' }),
  })
  .openapi('Problem', {
    description: 'An error (RFC 9457 shape); `requestId` repeats the response’s `x-request-id`',
  });

export const LinksSchema = z
  .object({
    self: z.string(),
    events: z.string(),
    result: z.string(),
    cancel: z.string(),
    summary: z.string().openapi({ description: 'The result in figures, once the job has written it' }),
    temporal: z
      .string()
      .optional()
      .openapi({ description: 'The job in the Temporal UI, when it has one (TEMPORAL_UI_URL)' }),
  })
  .openapi('Links');

export const StartedSchema = z
  .object({ jobId: z.string(), status: z.literal('RUNNING'), links: LinksSchema })
  .openapi('Started');

export const DuplicateSchema = z
  .object({
    jobId: z.string(),
    status: JobStatusSchema,
    duplicate: z.literal(true),
    links: LinksSchema,
  })
  .openapi('Duplicate', {
    description:
      'A job with the same file content, column, sheet, question, categories and settings is running or done: nothing started (send `force=true` to code again)',
  });

export const CancellingSchema = z
  .object({ jobId: z.string(), status: z.literal('CANCELLING'), links: LinksSchema })
  .openapi('Cancelling');

const dollars = (description?: string) => {
  const n = z.number().min(0);
  return description ? n.openapi({ description }) : n;
};

const CostPartsSchema = z
  .object({ input: dollars(), cached: dollars(), output: dollars(), total: dollars() } satisfies Shape<Cost>)
  .openapi('CostParts', { description: 'US dollars: uncached input, cached input, output, and their sum' });

export const CostSchema = z
  .object({
    currency: z.literal('USD'),
    total: dollars().nullable().openapi({ description: 'Null: the model has no price ("cost unknown")' }),
    sync: z.union([CostPartsSchema, z.null()]),
    batch: z.union([CostPartsSchema, z.null()]).openapi({ description: 'Batch API lines (half price)' }),
    review: z.union([CostPartsSchema, z.null()]).optional().openapi({
      description:
        "The review model's requests (reviewModel), at its price; null: none sent, or that model has no price (then total is null)",
    }),
    priceSource: z.string().nullable(),
    maxCost: dollars().nullable().openapi({ description: 'The cap (MAX_COST, maxCost); null: none' }),
    capReached: z.boolean().openapi({
      description: 'The job holds its next request: it would go over maxCost. Raise it (PATCH) or cancel.',
    }),
    nextRequest: dollars()
      .nullable()
      .openapi({ description: 'When held: the most the next request can cost' }),
  } satisfies Shape<JobCost>)
  .openapi('Cost', { description: 'What the job has cost so far, and its cap' });

export const EstimateSchema = z
  .object({
    model: z.string(),
    requests: count('Requests the job will send, one per batch (before any retry)'),
    rows: count('Rows to code'),
    answers: count('Unique answers sent for them'),
    inputTokens: count(),
    outputTokens: count('The expected answers, not the ceilings asked for'),
    cost: z.object({
      sync: dollars().nullable().openapi({ description: 'Synchronous requests; null: cost unknown' }),
      batch: dollars().nullable().openapi({ description: 'Batch API mode (half price); null: cost unknown' }),
    }),
    priceSource: z.string().nullable(),
    pricesAsOf: z.string().openapi({ description: 'The date of the built-in price table' }),
  } satisfies Shape<CostEstimate>)
  .openapi('Estimate', { description: 'What a job would cost, worked out without calling the model' });
const BatchApiProgressSchema = z
  .object({
    round: count(
      'The round of batches under way (1 first; lines without a usable answer may go into another)',
    ),
    stage: z.enum(['submitting', 'waiting', 'synchronous']).openapi({
      description: '`synchronous`: the Batch API rounds are over and what they left is asked directly',
    }),
    batches: z
      .array(
        z.object({
          id: z.string(),
          status: z.string().openapi({
            description:
              'As OpenAI says it: validating, in_progress, completed…; not_sent: its file waits at the cost cap (its id empty)',
          }),
          total: count(),
          completed: count(),
          failed: count(),
        }),
      )
      .readonly(),
    requests: z.object({ total: count(), completed: count(), failed: count() }),
    linesCoded: count('Lines of all rounds whose answer validated'),
    linesSent: count('Lines sent in all rounds'),
    note: z.string().optional().openapi({ description: 'A full queue being waited out, say' }),
  } satisfies Shape<BatchApiProgress>)
  .openapi('BatchApiProgress', { description: 'Batch API mode: the round and its batches' });

export const ProgressSchema = z
  .object({
    jobId: z.string(),
    phase: z.enum(JOB_PHASES),
    paused: z.boolean(),
    simulated: z.boolean().openapi({
      description:
        'A dry run against the simulator (the worker has no API key): the categories are not real codings',
    }),
    fileName: z.string(),
    column: z.string(),
    rows: z.object({
      total: count('Data rows of the sheet (0 until the job is prepared)'),
      done: count('Rows settled: empty, invalid, already coded, and classified'),
      empty: count(),
      invalid: count(),
      alreadyCoded: count('Rows whose category column was filled before the job'),
      toClassify: count(),
      classified: count('Rows coded so far, fallbacks included'),
      fallback: count('Rows given the fallback label because their batch could not be coded'),
    } satisfies Shape<JobProgress['rows']>),
    uniqueAnswers: count('Distinct answers sent to the model (duplicates are sent once)'),
    batches: z.object({
      total: count(),
      done: count(),
      inFlight: count(),
      fallback: count('Batches that could not be coded after their retries'),
    } satisfies Shape<JobProgress['batches']>),
    window: z.object({
      size: count('Batches allowed in flight now (narrowed after 429s)'),
      max: count('The ceiling of the window: the job’s concurrency'),
    } satisfies Shape<JobProgress['window']>),
    ratePerMinute: z.number().min(0).openapi({ description: 'Rows classified per minute' }),
    etaSeconds: z.number().min(0).nullable().openapi({ description: 'Null while the rate is not known yet' }),
    elapsedSeconds: z.number().min(0),
    tokens: z.object({
      prompt: count(),
      completion: count(),
      cached: count(),
      total: count('Prompt and completion'),
    } satisfies Shape<JobProgress['tokens']>),
    apiCalls: count('Requests sent to the model, retries included'),
    rateLimited: count('Answers of 429 (rate limited)'),
    cost: CostSchema.optional(),
    fallbackReasons: z.record(z.string(), count()).openapi({ description: 'Fallback batches by reason' }),
    batchApi: BatchApiProgressSchema.optional(),
    startedAt: dateTime,
    updatedAt: dateTime,
  } satisfies Shape<JobProgress>)
  .openapi('Progress', { description: 'The workflow progress query' });

export const JobStatsSchema = z
  .object({
    totalSeconds: z.number().min(0),
    classifySeconds: z.number().min(0),
    ratePerMinute: z.number().min(0).openapi({ description: 'Rows classified per minute' }),
    speedup: z
      .number()
      .min(0)
      .openapi({ description: 'The sequential estimate divided by the classification wall time' }),
    sequentialEstimateSeconds: z
      .number()
      .min(0)
      .openapi({ description: 'The sum of request latencies: what one worker would have taken' }),
    apiCalls: count(),
    rateLimited: count(),
    tokens: count('Prompt and completion tokens'),
    fallbackBatches: count(),
    fallbackRows: count(),
  } satisfies Shape<JobStats>)
  .openapi('JobStats', { description: 'The stats block of a finished (or cancelled) job' });

const shareOrNull = z.number().min(0).max(1).nullable();
const ConfidenceSideSchema = z.object({ rows: count(), exactAgreement: shareOrNull });

export const QualitySchema = z
  .object({
    goldHeader: z.string().openapi({ description: 'The human-coded column' }),
    rows: count('Rows compared: coded by the model in this job and by hand'),
    exactAgreement: shareOrNull,
    kappa: z.number().nullable().openapi({ description: "Cohen's κ (null: nothing to compare)" }),
    alpha: z.number().nullable().openapi({ description: "Krippendorff's α, nominal" }),
    microF1: shareOrNull,
    macroF1: shareOrNull,
    unknownGoldLabels: count('Human-coded cells naming labels the codeframe does not have'),
    reviewRows: count('Rows on the Review sheet'),
    byConfidence: z
      .object({
        threshold: z.number(),
        atOrAbove: ConfidenceSideSchema,
        below: ConfidenceSideSchema,
        withoutConfidence: ConfidenceSideSchema,
      } satisfies Shape<ConfidenceSplit>)
      .optional()
      .openapi({
        description:
          "Agreement at or above and below REVIEW_BELOW, when confidences were given: of the first model's labels (whose confidences they are), also after a review",
      }),
    beforeReview: z
      .object({
        model: z.string().openapi({ description: 'The first model' }),
        recoded: count('Rows compared that the review model coded again (its label kept)'),
        exactAgreement: shareOrNull,
        kappa: z.number().nullable(),
        alpha: z.number().nullable(),
        microF1: shareOrNull,
        macroF1: shareOrNull,
      } satisfies Shape<FirstModelFigures>)
      .optional()
      .openapi({
        description:
          "After a second opinion (reviewModel): the figures of the first model's labels alone, before the review",
      }),
    exampleRows: count(
      'Human-coded rows left out of the figures because their answers were shown to the model as examples (examplesFromGold)',
    ).optional(),
    notCompared: z
      .object({
        rows: count('All of them'),
        invalid: count('Answers taken as invalid (N/A, -, ?): never sent to the model'),
        empty: count('Empty answers'),
        alreadyCoded: count('Rows whose category cell was filled before the job'),
        uncoded: count('Rows the job did not get to (a cancel or a failure stopped it first)'),
        noLabel: count('Human-coded cells with no label in them'),
      } satisfies Shape<NotCompared>)
      .optional()
      .openapi({
        description:
          'Rows with a human-coded cell left out of the comparison, by reason (examples apart); absent in jobs from before it was counted',
      }),
  } satisfies Shape<QualitySummary>)
  .openapi('Quality', {
    description: "Agreement between the model and the human-coded column (the Quality sheet's figures)",
  });

const fraction = z.number().min(0).max(1);

const SummaryCategorySchema = z
  .object({
    kind: z.enum(['net', 'category', 'fallback', 'unknown']).openapi({
      description:
        '`fallback`: the fallback label (Other) as the model gave it; `unknown`: a label already in the file that the codeframe does not have',
    }),
    code: z.number().int().nullable(),
    label: z.string(),
    net: z.string().nullable().openapi({ description: 'The net a category is counted in' }),
    respondents: count('Rows with it (a net: rows with any of its categories)'),
    share: fraction.openapi({ description: 'respondents / base.respondents' }),
    mentions: count('Labels given (a net: its categories together); equals respondents in single-label mode'),
    mentionShare: fraction.openapi({ description: 'mentions / base.mentions' }),
    order: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Its place in the codeframe file (nets before their first category)' }),
    examples: z
      .array(z.string())
      .openapi({ description: 'Up to three answers the model coded with it, first in the sheet first' }),
  } satisfies Shape<ResultSummary['categories'][number]>)
  .openapi('SummaryCategory');

export const SummarySchema = z
  .object({
    jobId: z.string(),
    status: JobStatusSchema,
    simulated: z.boolean().openapi({ description: 'SIMULATED: the simulator answered, not a model' }),
    partial: z
      .boolean()
      .openapi({ description: 'PARTIAL: the job was cancelled or failed before every row was coded' }),
    ended: z.enum(['completed', 'cancelled', 'failed']),
    notices: z
      .array(z.string())
      .openapi({ description: 'The SIMULATED and PARTIAL warnings the Summary sheet starts with' }),
    multi: z.boolean().openapi({ description: 'Several categories per answer' }),
    base: z
      .object({
        respondents: count('The base of every `share`'),
        mentions: count('The base of every `mentionShare`'),
        description: z.string().openapi({ description: 'Which rows the base holds, in words' }),
      } satisfies Shape<ResultSummary['base']>)
      .openapi({ description: 'Respondents coded: by the model, or already in the file' }),
    categories: z.array(SummaryCategorySchema).openapi({
      description:
        "As the workbook's Summary lists them: each net followed by its categories, largest first, the fallback, then labels outside the codeframe",
    }),
    rows: z
      .object({
        total: count('Data rows'),
        model: count('Coded by the model (in the base)'),
        file: count('Already coded in the file (in the base)'),
        invalid: count('Invalid answers (-, n/a, #N/A …): coded Other without a call, not in the base'),
        fallback: count('Retries ran out: coded Other, not in the base'),
        empty: count('Empty: left blank'),
        notReached: count('Not coded before the job was cancelled or failed: left blank'),
      } satisfies Shape<ResultSummary['rows']>)
      .openapi({ description: 'How every data row was treated' }),
    agreement: z
      .union([QualitySchema, z.null()])
      .openapi({ description: 'Agreement with the human-coded column (goldColumn); null without one' }),
  } satisfies Shape<ResultSummary> & { jobId: z.ZodType; status: z.ZodType })
  .openapi('Summary', {
    description: "The job's result in figures: the workbook's Summary sheet, with example answers",
  });

/** Dates are sent as ISO strings; the job service's views otherwise pass as they are, with links. */
type Sent<T> = {
  [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};

/** What a job was started with: `POST /jobs`'s fields, to send again with `jobId`. */
const JobStartSchema = z
  .object({
    name: z.string().optional(),
    sheet: z.string().optional(),
    column: z.string(),
    goldColumn: z.string().optional(),
    by: z.array(z.string()).readonly().optional(),
    question: z.string().optional(),
    categories: z.string().optional().openapi({
      description:
        'The categories text as given (a repeated field: its values, one a line); absent for older jobs',
    }),
    batchSize: z.union([z.number().int().min(1), z.literal('auto')]),
    concurrency: z.number().int().min(1),
    temperature: z.number(),
    model: z.string(),
    parallel: z.boolean(),
    multi: z.boolean().optional(),
    maxCodes: z.number().int().min(1).optional().openapi({ description: 'With multi only' }),
    maxCost: z.number().optional(),
    batchApi: z.boolean().optional(),
    reviewModel: z.string().optional(),
    examplesFromGold: z.number().int().min(1).optional().openapi({ description: 'With goldColumn only' }),
  } satisfies Shape<JobStart>)
  .openapi('JobStart', {
    description:
      "What the job was started with, named as POST /jobs names its fields, the server's defaults included: send them again with `jobId` (the job's stored upload) to run it again. A field an older job did not keep is absent; never a key or token.",
  });

export const JobSchema = z
  .object({
    jobId: z.string(),
    name: z.string().nullable().openapi({ description: 'The name given at the start, if any' }),
    status: JobStatusSchema,
    fileName: z.string().optional(),
    column: z.string().optional().openapi({ description: 'The column asked for' }),
    simulated: z.boolean().nullable().openapi({
      description: 'A dry run against the simulator (no API key); null when not known',
    }),
    createdAt: dateTime,
    closedAt: dateTime.nullable(),
    // A union, not .nullable(): the generator drops `null` from a nullable reference to a component.
    progress: z.union([ProgressSchema, z.null()]),
    stats: z
      .union([JobStatsSchema, z.null()])
      .openapi({ description: 'Once the job has completed or been cancelled' }),
    quality: QualitySchema.optional().openapi({
      description: 'With a human-coded column (goldColumn), once the job has completed or been cancelled',
    }),
    error: z.string().optional().openapi({ description: 'Why the job failed (FAILED only)' }),
    startedWith: JobStartSchema.optional(),
    links: LinksSchema,
  } satisfies Shape<Sent<JobDescription>> & { links: z.ZodType })
  .openapi('Job');

export const JobListItemSchema = z
  .object({
    jobId: z.string(),
    status: JobStatusSchema,
    name: z.string().nullable().openapi({ description: 'The name given at the start, if any' }),
    fileName: z.string().nullable(),
    column: z.string().nullable(),
    phase: z.enum(JOB_PHASES).nullable().openapi({ description: 'Search attribute VerbatimPhase' }),
    rows: count().nullable().openapi({ description: 'Data rows of the sheet, once prepared' }),
    fallbacks: count()
      .nullable()
      .openapi({ description: 'Batches that could not be coded after their retries (not rows)' }),
    createdAt: dateTime,
    closedAt: dateTime.nullable(),
    links: LinksSchema,
  } satisfies Shape<Sent<Omit<JobSummary, 'sameKey'>>> & { links: z.ZodType })
  .openapi('JobListItem');

export const JobListSchema = z
  .object({
    jobs: z.array(JobListItemSchema),
    nextPageToken: z.string().nullable(),
  })
  .openapi('JobList');

export const PreviewSchema = z
  .object({
    fileName: z.string(),
    format: z.enum(SHEET_FORMATS),
    sheets: z
      .array(
        z.object({
          name: z.string(),
          index: z.number().int().min(1).openapi({ description: '1-based tab index' }),
          state: z.enum(['visible', 'hidden', 'veryHidden']),
          lastRow: count(
            'The last row of the sheet’s declared range (xlsx, when recorded): a size hint',
          ).optional(),
        } satisfies Shape<PreviewSheet>),
      )
      .readonly(),
    sheet: z.string().openapi({ description: 'The sheet shown' }),
    sheetIndex: z.number().int().min(1),
    headerRow: z.number().int().min(1).optional().openapi({ description: 'Absent when the sheet is empty' }),
    questionRow: z
      .number()
      .int()
      .min(1)
      .optional()
      .openapi({ description: 'The row above the header with the questions' }),
    columns: z
      .array(
        z.object({
          letter: z.string(),
          header: z.string(),
          question: z.string().optional(),
        } satisfies Shape<PreviewColumn>),
      )
      .readonly(),
    rows: z
      .array(z.object({ row: z.number().int().min(1), cells: z.array(z.string()).readonly() }))
      .readonly()
      .openapi({ description: 'The first data rows: `cells[i]` belongs to `columns[i]`' }),
    warnings: z
      .array(
        z.object({
          code: z.string(),
          message: z.string(),
          rows: z.array(z.number().int().min(1)).readonly(),
          rowCount: count(),
        } satisfies Record<keyof SheetWarning, z.ZodType>),
      )
      .readonly()
      .openapi({
        description:
          'What reading the top of the file noticed (a CSV’s encoding), naming rows among those read',
      }),
    // Keys only at this level: the sheets' and columns' optional fields are `T | undefined` in the types.
  } satisfies Record<keyof Preview | 'fileName' | 'format', z.ZodType>)
  .openapi('Preview');

export const SettingsSchema = z
  .object({
    defaults: z.object({
      batchSize: z.union([z.number().int().min(1).max(MAX_BATCH_SIZE), z.literal('auto')]),
      concurrency: z.number().int().min(1).max(MAX_CONCURRENCY),
      parallel: z.boolean(),
      minResponsesForParallel: count('Fewer answers to classify run one batch at a time'),
      model: z.string(),
      temperature: z.number().min(0).max(2),
      multi: z.boolean().openapi({ description: 'Several categories per answer (MULTI_CODE)' }),
      maxCodes: z.number().int().min(1).max(MAX_CODES_LIMIT).openapi({
        description: 'The most categories an answer keeps in multi-code mode (MAX_CODES)',
      }),
      batchApi: z.boolean().openapi({ description: "Through OpenAI's Batch API (OPENAI_BATCH_API)" }),
    }),
    limits: z.object({
      maxUploadBytes: count(),
      maxBatchSize: count(),
      maxConcurrency: count(),
      maxCodes: count(),
    }),
    temporalUiUrl: z.string().nullable(),
    simulated: z.boolean().nullable().openapi({
      description:
        'true: no OPENAI_API_KEY, jobs are coded by the built-in simulator (a dry run, not real codes); null: this process has no worker to say',
    }),
  })
  .openapi('Settings');

export const HealthySchema = z.object({ status: z.literal('ok'), temporal: z.literal('ok') });
export const UnhealthySchema = z.object({
  status: z.literal('unavailable'),
  temporal: z.literal('unreachable'),
});

/** This document: described by its top keys only (its own schema is OpenAPI 3.1's). */
export const DocumentSchema = z
  .object({ openapi: z.string(), info: z.object({ title: z.string(), version: z.string() }).loose() })
  .loose()
  .openapi({ additionalProperties: true });

// --- Codeframe drafts (`/codeframes`).

export const CodeframeLinksSchema = z
  .object({
    self: z.string(),
    result: z.string().openapi({ description: 'The categories file (txt); `?format=xlsx` for the table' }),
    cancel: z.string(),
    temporal: z
      .string()
      .optional()
      .openapi({ description: 'The draft in the Temporal UI, when it has one (TEMPORAL_UI_URL)' }),
  })
  .openapi('CodeframeLinks');

export const CodeframeStartedSchema = z
  .object({ codeframeId: z.string(), status: z.literal('RUNNING'), links: CodeframeLinksSchema })
  .openapi('CodeframeStarted');

export const CodeframeCancellingSchema = z
  .object({ codeframeId: z.string(), status: z.literal('CANCELLING'), links: CodeframeLinksSchema })
  .openapi('CodeframeCancelling');

export const CodeframeProgressSchema = z
  .object({
    codeframeId: z.string(),
    phase: z.enum(CODEFRAME_PHASES),
    simulated: z.boolean().openapi({
      description: 'A dry run against the simulator (no API key): the codes are not a model’s reading',
    }),
    fileName: z.string(),
    column: z.string(),
    answers: z.object({
      rows: count('Rows with an answer to read (empty and invalid ones left out)'),
      unique: count(),
      chosen: count('Unique answers read for themes'),
      sampled: z.boolean().openapi({ description: 'More unique answers than the cap: a weighted sample' }),
    } satisfies Shape<CodeframeProgress['answers']>),
    chunks: z.object({
      total: count(),
      done: count(),
      failed: count(),
      inFlight: count(),
    } satisfies Shape<CodeframeProgress['chunks']>),
    themes: count('Themes so far: extracted while extracting, left after the last merge round after'),
    merge: z.object({ round: count(), calls: count(), failed: count() } satisfies Shape<
      CodeframeProgress['merge']
    >),
    measure: z.object({
      batches: count(),
      done: count(),
      failed: count(),
      sample: count('Rows drawn to measure the draft'),
    } satisfies Shape<CodeframeProgress['measure']>),
    apiCalls: count('Requests sent to the model, retries included'),
    calls: z.object({ extract: count(), merge: count(), measure: count() } satisfies Shape<
      CodeframeProgress['calls']
    >),
    rateLimited: count('Answers of 429 (rate limited)'),
    tokens: z.object({
      prompt: count(),
      completion: count(),
      cached: count(),
      total: count(),
    } satisfies Shape<CodeframeProgress['tokens']>),
    window: z.object({ size: count(), max: count() } satisfies Shape<CodeframeProgress['window']>),
    elapsedSeconds: z.number().min(0),
    startedAt: dateTime,
    updatedAt: dateTime,
  } satisfies Shape<CodeframeProgress>)
  .openapi('CodeframeProgress', { description: 'The draft workflow’s progress query' });

const share = (description: string) => z.number().min(0).max(1).openapi({ description });

export const CodeframeReportSchema = z
  .object({
    codeframeId: z.string(),
    fileName: z.string(),
    column: z.string(),
    sheet: z.string().optional(),
    question: z.string(),
    writtenAt: dateTime,
    model: z.string(),
    simulated: z.boolean(),
    codes: z
      .array(
        z.object({
          code: count('Its number, as the categories file numbers it'),
          label: z.string(),
          description: z.string(),
          net: z.string().optional().openapi({ description: 'The net it is listed under' }),
          share: share('Estimated share of answers (from the measured sample)'),
          measured: count('Rows of the sample coded with it'),
          examples: z.array(z.string()).readonly().openapi({ description: 'Up to three answers' }),
        } satisfies Shape<CodeframeCode>),
      )
      .readonly()
      .openapi({ description: 'In file order: codes outside any net first, then each net’s codes' }),
    nets: z
      .array(
        z.object({
          name: z.string(),
          share: share('Its codes’ shares added up'),
          codes: z.array(count()).readonly(),
        } satisfies Shape<CodeframeNet>),
      )
      .readonly(),
    other: z.object({ code: count(), label: z.string(), share: share('1 − coverage') }),
    folded: z
      .array(z.object({ label: z.string(), share: share('Its estimated share'), measured: count() }))
      .readonly()
      .openapi({ description: 'Codes under minShare, folded into Other' }),
    overflow: z
      .array(z.string())
      .readonly()
      .openapi({ description: 'Codes left out because the draft had more than maxCodes' }),
    minShare: z.number().min(0),
    coverage: share('Share of measured answers that fit a code (not Other)'),
    base: count('Rows measured: the base of every share'),
    covered: count('Rows measured that fit a code'),
    sampleRows: count('Rows drawn to measure'),
    measureFailed: count('Measuring batches whose retries ran out (their rows are not in the base)'),
    warnings: z.array(z.string()).readonly().openapi({ description: 'What reading the file noticed' }),
    files: z.object({ txt: z.string(), xlsx: z.string() }),
  } satisfies Record<keyof CodeframeReport, z.ZodType>)
  .openapi('CodeframeReport', { description: 'The written draft, with up to three example answers a code' });

export const CodeframeSchema = z
  .object({
    codeframeId: z.string(),
    status: JobStatusSchema,
    fileName: z.string().optional(),
    column: z.string().optional().openapi({ description: 'The column asked for' }),
    createdAt: dateTime,
    closedAt: dateTime.nullable(),
    progress: z.union([CodeframeProgressSchema, z.null()]),
    codeframe: z
      .union([CodeframeReportSchema, z.null()])
      .openapi({ description: 'Once the draft has completed' }),
    error: z.string().optional().openapi({ description: 'Why the draft failed (FAILED only)' }),
    links: CodeframeLinksSchema,
  } satisfies Shape<Sent<CodeframeDescription>> & { links: z.ZodType })
  .openapi('Codeframe');

const CrosstabCellSchema = z.object({
  count: count('Respondents in the column with the code (with any code of the net)'),
  percent: shareOrNull.openapi({ description: "count / the column's base; null when the base is 0" }),
  p: z
    .number()
    .nullable()
    .openapi({ description: 'Two-sided p of the column against the rest; null: not tested' }),
  mark: z
    .enum(['higher', 'lower'])
    .optional()
    .openapi({ description: 'p < 0.05: the column is above or below the rest of the row' }),
} satisfies Shape<CrosstabCell>);

const CrosstabSchema = z.object({
  columns: z
    .array(
      z.object({
        label: z.string(),
        total: z.boolean().openapi({ description: 'The Total column: every respondent' }),
        base: count('Respondents with a code in the column'),
      } satisfies Shape<CrosstabColumn>),
    )
    .readonly(),
  lines: z
    .array(
      z.object({
        kind: z.enum(['code', 'net']),
        label: z.string(),
        cells: z.array(CrosstabCellSchema).readonly().openapi({ description: 'One per column, Total last' }),
      } satisfies Shape<CrosstabLine>),
    )
    .readonly(),
  noBanner: count('Respondents without a value in the banner (or outside its groups): in Total only'),
  uncoded: count('Rows without a code: in no base'),
} satisfies Shape<Crosstab>);

export const TablesSchema = z
  .object({
    jobId: z.string(),
    header: z.string().openapi({ description: 'The answer column the tables are of' }),
    tables: z.array(
      z.object({
        banner: z.string().openapi({ description: 'The banner as asked for' }),
        column: z.string().openapi({ description: "The banner column's letter" }),
        header: z.string(),
        groups: z.string().optional(),
        table: CrosstabSchema.optional(),
        refused: z.string().optional().openapi({ description: 'Why there is no table' }),
        notes: z
          .array(z.string())
          .openapi({ description: 'The base, the test behind the marks, who is in Total only' }),
      } satisfies Shape<BannerTable> & { notes: z.ZodType }),
    ),
  })
  .openapi('Tables', { description: "The job's codes and nets by each banner's values" });
