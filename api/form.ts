import { z } from 'zod';
import type { Category } from '../domain/categories.js';
import { categoriesFromList, parseCategories } from '../domain/categories.js';
import { MAX_BATCH_SIZE } from '../domain/batching.js';
import type { JobOptions } from '../domain/job.js';
import { booleanText } from '../lib/config.js';
import { MAX_CONCURRENCY } from '../workflows/definitions.js';
import { HTTPException } from 'hono/http-exception';
import { badRequest } from './problem.js';

/** The fields of `POST /jobs` besides the file, checked with messages that name the field. */
export type FormValue = string | File | Array<string | File>;
export type Form = Record<string, FormValue | undefined>;

export interface JobForm {
  readonly file: File;
  readonly column: string;
  readonly sheet?: string;
  readonly question?: string;
  readonly categories: Category[];
  readonly options: JobOptions;
}

const optionSchemas = {
  batchSize: z.union([
    z.literal('auto'),
    z.coerce.number().int('must be a whole number or "auto"').min(1).max(MAX_BATCH_SIZE),
  ]),
  concurrency: z.coerce.number().int('must be a whole number').min(1).max(MAX_CONCURRENCY),
  temperature: z.coerce.number().min(0).max(2),
  model: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[\w.:/-]+$/, 'must be a model name such as gpt-4o-mini'),
  parallel: booleanText,
};

/** Categories may come as a text file part (`-F categories=@categories.txt`) as well as typed text. */
const MAX_CATEGORIES_FILE_BYTES = 1024 * 1024;

/**
 * The multipart body, or a 400 naming it: a body that is not multipart/form-data (a missing boundary, a
 * cut-off upload) is the client's mistake, not a server error. Errors of the body limit pass through.
 */
export async function readForm(req: { parseBody(options: { all: true }): Promise<unknown> }): Promise<Form> {
  let form: Form;
  try {
    form = (await req.parseBody({ all: true })) as Form;
  } catch (error) {
    if (error instanceof HTTPException) throw error;
    throw badRequest(
      'body',
      'the request body is not valid multipart/form-data: send the spreadsheet as field "file" of a form',
      'invalid_body',
    );
  }
  const categories = form.categories;
  if (categories instanceof File) {
    if (categories.size > MAX_CATEGORIES_FILE_BYTES) {
      throw badRequest('categories', 'the categories file is larger than 1 MiB');
    }
    form.categories = await categories.text();
  }
  return form;
}

export function text(form: Form, field: string, max = 1_000): string | undefined {
  const value = form[field];
  const single = Array.isArray(value) ? value[0] : value;
  if (single === undefined) return undefined;
  if (typeof single !== 'string') throw badRequest(field, `${field} must be text, not a file`);
  const trimmed = single.trim();
  if (trimmed.length > max) throw badRequest(field, `${field} is longer than ${max} characters`);
  return trimmed === '' ? undefined : trimmed;
}

export function fileField(form: Form, field = 'file'): File {
  const value = form[field];
  const single = Array.isArray(value) ? value[0] : value;
  if (single === undefined || typeof single === 'string') {
    throw badRequest(
      field,
      'no file uploaded: send the spreadsheet as multipart/form-data field "file"',
      'file_missing',
    );
  }
  if (single.size === 0)
    throw badRequest(field, `the uploaded file ${JSON.stringify(single.name)} is empty`, 'file_empty');
  return single;
}

/** Categories as text (one per line, "Name" or "Name: description") or as repeated `categories` fields. */
function categoriesField(form: Form): Category[] {
  const value = form.categories;
  if (value === undefined)
    throw badRequest('categories', 'no categories given: one per line, "Name" or "Name: description"');
  if (Array.isArray(value)) {
    if (value.some((v) => typeof v !== 'string')) throw badRequest('categories', 'categories must be text');
    return categoriesFromList(
      value.filter((v): v is string => typeof v === 'string'),
      'categories',
    );
  }
  if (typeof value !== 'string') throw badRequest('categories', 'categories must be text');
  const trimmed = value.trim();
  if (trimmed.startsWith('[')) {
    const list = z.array(z.string()).safeParse(safeJson(trimmed));
    if (!list.success) throw badRequest('categories', 'categories given as JSON must be an array of strings');
    return categoriesFromList(list.data, 'categories');
  }
  return parseCategories(trimmed, 'categories');
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

function option<K extends keyof typeof optionSchemas>(
  form: Form,
  field: K,
): z.infer<(typeof optionSchemas)[K]> | undefined {
  const raw = text(form, field, 100);
  if (raw === undefined) return undefined;
  const parsed = optionSchemas[field].safeParse(raw);
  if (!parsed.success) {
    throw badRequest(
      field,
      `${field}=${JSON.stringify(raw)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      'out_of_range',
    );
  }
  return parsed.data as z.infer<(typeof optionSchemas)[K]>;
}

export function parseJobForm(form: Form, defaults: JobOptions): JobForm {
  const file = fileField(form);
  const column = text(form, 'column', 500);
  if (!column)
    throw badRequest('column', 'no column given: a header such as E2, a column letter, or the question text');
  const sheet = text(form, 'sheet', 200);
  const question = text(form, 'question', 2_000);
  const categories = categoriesField(form);
  const batchSize = option(form, 'batchSize');
  const concurrency = option(form, 'concurrency');
  const temperature = option(form, 'temperature');
  const model = option(form, 'model');
  const parallel = option(form, 'parallel');
  return {
    file,
    column,
    ...(sheet ? { sheet } : {}),
    ...(question ? { question } : {}),
    categories,
    options: {
      ...defaults,
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(concurrency !== undefined ? { maxWorkers: concurrency } : {}),
      ...(temperature !== undefined ? { temperature } : {}),
      ...(model !== undefined ? { model } : {}),
      ...(parallel !== undefined ? { parallel } : {}),
    },
  };
}

/**
 * The body of `PATCH /jobs/:id`. JSON has numbers and booleans, so nothing is coerced here: `"4"`, `true` or
 * `null` for the concurrency is a mistake to report, not a number (coercion would turn `true` into 1).
 */
const patchSchema = z
  .object({
    concurrency: z
      .number('must be a number')
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_CONCURRENCY, `must be at most ${MAX_CONCURRENCY}`)
      .optional(),
    paused: z.boolean('must be true or false (a JSON boolean)').optional(),
  })
  .strict()
  .refine((v) => v.concurrency !== undefined || v.paused !== undefined, 'give "concurrency" and/or "paused"');

/** The checked change, or a 400 naming the field: `concurrency`, `paused`, an unknown key, or the body. */
export function parsePatch(json: unknown): z.infer<typeof patchSchema> {
  if (json === undefined) {
    throw badRequest('body', 'the body must be JSON, such as {"paused": true} or {"concurrency": 8}');
  }
  const parsed = patchSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? 'body';
    throw badRequest(key, `unknown field ${JSON.stringify(key)}: give "concurrency" and/or "paused"`);
  }
  const field = issue?.path[0];
  if (field === undefined) throw badRequest('body', issue?.message ?? 'invalid body');
  const value = (json as Record<string, unknown>)[String(field)];
  throw badRequest(
    String(field),
    `${String(field)}=${JSON.stringify(value)}: ${issue?.message ?? 'invalid'}`,
  );
}
