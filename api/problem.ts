import type { Context } from 'hono';
import type { z } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  CodeframeNotFoundError,
  DomainError,
  InputProblemsError,
  JobNotFoundError,
} from '../domain/errors.js';

/**
 * Errors as JSON problem bodies (RFC 9457 shape): `status`, a stable `code`, a `title`, the `detail` a person
 * can act on and the `field` of the request it is about. One mapping for the whole API: validation 400,
 * domain 422 (the file is readable but not as asked), not found 404, conflict 409, else 500 with a request id.
 */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly field?: string;
  readonly requestId?: string;
  readonly [extra: string]: unknown;
}

export class ProblemError extends HTTPException {
  constructor(
    readonly problemStatus: ContentfulStatusCode,
    readonly code: string,
    readonly detail: string,
    readonly field?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(problemStatus, { message: detail });
  }
}

export const badRequest = (field: string, detail: string, code = 'invalid_field') =>
  new ProblemError(400, code, detail, field);

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable input',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/** The 4xx status a domain error deserves: 404 for an unknown job, 422 for input that is readable but wrong. */
function domainStatus(error: DomainError): ContentfulStatusCode {
  if (error instanceof JobNotFoundError || error instanceof CodeframeNotFoundError) return 404;
  if (error.code === 'job_state_conflict') return 409;
  if (
    [
      'invalid_workbook',
      'empty_categories',
      'only_fallback_category',
      'duplicate_categories',
      'invalid_category',
      'invalid_setting',
      // The job's update validator refused the change (JobChangeRejectedError).
      'update_rejected',
    ].includes(error.code)
  ) {
    return 400;
  }
  return 422;
}

export function problemFor(error: unknown, requestId: string): Problem {
  if (error instanceof ProblemError) {
    return make(error.problemStatus, error.code, error.detail, error.field, { ...error.extra, requestId });
  }
  if (error instanceof InputProblemsError) {
    // Several mistakes of the file's columns: 400 when one of them is the request's own (as alone), else 422.
    const status = error.errors.some((e) => domainStatus(e) === 400) ? 400 : 422;
    const errors = error.errors.map(fieldProblemOf);
    const available = errors[0]?.available;
    return make(status, error.code, error.message, error.field, {
      requestId,
      errors,
      ...(available ? { available } : {}),
    });
  }
  if (error instanceof DomainError) {
    const extra: Record<string, unknown> = { requestId };
    if ('available' in error) extra.available = error.available;
    // A job or draft is named by the `id` in the path (`/jobs/{id}`), whatever the domain calls it.
    const field =
      error instanceof JobNotFoundError || error instanceof CodeframeNotFoundError ? 'id' : error.field;
    return make(domainStatus(error), error.code, error.message, field, extra);
  }
  if (error instanceof HTTPException) {
    return make(error.status, 'http_error', error.message, undefined, { requestId });
  }
  return make(500, 'internal_error', `Something went wrong on our side (request ${requestId}).`, undefined, {
    requestId,
  });
}

function make(
  status: number,
  code: string,
  detail: string,
  field?: string,
  extra: Record<string, unknown> = {},
): Problem {
  // Extras come first: a context field named like a fixed one (a job's `status`) must never replace the HTTP
  // status, which `sendProblem` answers with.
  return {
    ...extra,
    type: `https://verbatim.invalid/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail,
    ...(field ? { field } : {}),
  };
}

export function sendProblem(c: Context, problem: Problem): Response {
  return c.json(problem, problem.status as ContentfulStatusCode, {
    'content-type': 'application/problem+json',
  });
}

/** One refused field of a request, as a problem's `errors` lists them. */
export interface FieldProblem {
  readonly field: string;
  readonly code: string;
  readonly detail: string;
  /** A column not found: the columns the sheet has. */
  readonly available?: readonly string[];
}

/** A domain error as one entry of a problem's `errors`. */
export function fieldProblemOf(error: DomainError): FieldProblem {
  return {
    field: error.field ?? 'body',
    code: error.code,
    detail: error.message,
    ...('available' in error && Array.isArray(error.available)
      ? { available: error.available as readonly string[] }
      : {}),
  };
}

/**
 * The routes' `defaultHook`: a request that fails its schema is one 400 problem listing every refused field
 * under `errors` (so a form can show each next to its field at once); `field`, `code` and `detail` are the
 * first one's, `detail` followed by the others' when there are several. The schemas' messages are whole
 * (api/requests.ts).
 */
export function refuseInvalid(
  result: { success: true } | { success: false; error: z.ZodError; target: string },
): void {
  if (result.success) return;
  refuseAll(schemaProblems(result));
}

/** Every field a request's schema refused, each once, by its first message. */
export function schemaProblems(result: { error: z.ZodError; target: string }): FieldProblem[] {
  const whole = result.target === 'json' || result.target === 'form' ? 'body' : result.target;
  const errors: FieldProblem[] = [];
  for (const issue of result.error.issues) {
    const field =
      issue.code === 'unrecognized_keys'
        ? (issue.keys[0] ?? whole)
        : issue.path[0] !== undefined
          ? String(issue.path[0])
          : whole;
    // A field refused twice (a union's branches) is listed once, by its first message.
    if (errors.some((e) => e.field === field)) continue;
    const code =
      issue.code === 'custom' && typeof issue.params?.code === 'string' ? issue.params.code : 'invalid_field';
    errors.push({ field, code, detail: issue.message });
  }
  return errors;
}

/**
 * Refuses a request for every problem given, in one 400 problem: `field`, `code` and `detail` are the first
 * one's, `detail` followed by the others' when there are several, all of them under `errors`.
 */
export function refuseAll(errors: readonly FieldProblem[]): never {
  const [head, ...rest] = errors;
  if (!head) throw badRequest('body', 'invalid request');
  const detail = rest.length === 0 ? head.detail : [head.detail, ...rest.map((e) => e.detail)].join('; ');
  throw new ProblemError(400, head.code, detail, head.field, {
    errors,
    ...(head.available ? { available: head.available } : {}),
  });
}
