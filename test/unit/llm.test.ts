import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { readRateLimit, retryDelayMs, toActivityFailure } from '../../activities/llm.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../../domain/errors.js';
import { ModelOutputError } from '../../domain/validate.js';

const CONTEXT = { attempt: 3, batch: 7 };

function body(message: string, type: string | null, code: string | null, param: string | null = null) {
  return { message, type, code, param };
}

const TPM_MESSAGE =
  'Rate limit reached for gpt-4o-mini in organization org-abc on tokens per min (TPM): Limit 200000, Used 199500, ' +
  'Requested 1200. Please try again in 644ms. Visit https://platform.openai.com/account/rate-limits to learn more.';
const RPM_MESSAGE =
  'Rate limit reached for gpt-4o-mini in organization org-abc on requests per min (RPM): Limit 500, Used 500, ' +
  'Requested 1. Please try again in 1.5s.';
const TOO_LARGE_MESSAGE =
  'Request too large for gpt-4o-mini in organization org-abc on tokens per min (TPM): Limit 200000, ' +
  'Requested 250000. The input or output tokens must be reduced in order to run successfully.';
const QUOTA_MESSAGE = 'You exceeded your current quota, please check your plan and billing details.';

/** A 429 the way openai-node builds it from a response (the message is taken from the body). */
function rateLimit(
  message: string,
  headers: Record<string, string> = {},
  type = 'tokens',
  code = 'rate_limit_exceeded',
) {
  return new OpenAI.RateLimitError(429, body(message, type, code), undefined, new Headers(headers));
}

/** The error openai-node would throw for `status` (its own factory picks the class). */
function statusError(status: number, message = 'something went wrong') {
  return OpenAI.APIError.generate(
    status,
    { error: body(message, 'invalid_request_error', null) },
    undefined,
    new Headers({ 'x-request-id': 'req_123' }),
  );
}

describe('retryDelayMs', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    ['Please try again in 644ms.', 644],
    ['Please try again in 1.5s.', 1_500],
    ['Please try again in 20s.', 20_000],
    ['Please try again in 1m26.4s.', 86_400],
    ['Please try again in 6m0s.', 360_000],
  ])('reads %j from the message', (tail, ms) => {
    expect(retryDelayMs({ message: `Rate limit reached. ${tail}` })).toBeCloseTo(ms, 6);
  });

  it('prefers the message over the headers', () => {
    const headers = new Headers({ 'retry-after': '30', 'retry-after-ms': '25000' });
    expect(retryDelayMs({ message: TPM_MESSAGE, headers })).toBe(644);
    expect(retryDelayMs(rateLimit(RPM_MESSAGE, { 'retry-after': '30' }))).toBe(1_500);
  });

  it('then retry-after-ms', () => {
    const headers = new Headers({ 'retry-after-ms': '2500', 'retry-after': '30' });
    expect(retryDelayMs({ message: '429 Too Many Requests', headers })).toBe(2_500);
  });

  it('then retry-after in seconds', () => {
    expect(retryDelayMs({ message: 'slow down', headers: new Headers({ 'retry-after': '7' }) })).toBe(7_000);
    expect(retryDelayMs({ message: 'slow down', headers: new Headers({ 'retry-after': '0' }) })).toBe(0);
  });

  it('then retry-after as an HTTP date', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-01-01T12:00:00.000Z'));
    const headers = new Headers({ 'retry-after': 'Wed, 01 Jan 2025 12:00:30 GMT' });
    expect(retryDelayMs({ message: 'slow down', headers })).toBe(30_000);
    const past = new Headers({ 'retry-after': 'Wed, 01 Jan 2025 11:00:00 GMT' });
    expect(retryDelayMs({ message: 'slow down', headers: past })).toBe(0);
  });

  it('is undefined without any hint', () => {
    expect(retryDelayMs({ message: 'Rate limit reached' })).toBeUndefined();
    expect(retryDelayMs({ message: 'Rate limit reached', headers: new Headers() })).toBeUndefined();
    expect(
      retryDelayMs({
        message: 'x',
        headers: new Headers({ 'retry-after': 'soon', 'retry-after-ms': 'abc' }),
      }),
    ).toBeUndefined();
  });
});

describe('toActivityFailure', () => {
  const retryableTypes = (failure: ApplicationFailure) =>
    !failure.nonRetryable && !(NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(failure.type ?? '');

  it('maps a 429 rate limit to a retryable RateLimitError waiting what the message says', () => {
    const failure = toActivityFailure(rateLimit(TPM_MESSAGE), CONTEXT);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe('RateLimitError');
    expect(failure.nonRetryable).toBe(false);
    expect(retryableTypes(failure)).toBe(true);
    const delay = Number(failure.nextRetryDelay);
    // The wait, plus a little jitter (at most 10 %) and a few ms.
    expect(delay).toBeGreaterThanOrEqual(644);
    expect(delay).toBeLessThanOrEqual(Math.ceil(644 * 1.1) + 5);
    expect(failure.details).toEqual([{ attempt: 3, status: 429 }]);
    expect(failure.message).toContain('Please try again in 644ms');
  });

  it('takes a 429’s wait from retry-after when the message has none', () => {
    const failure = toActivityFailure(
      rateLimit('Rate limit reached for requests', { 'retry-after': '2' }, 'requests'),
      CONTEXT,
    );
    const delay = Number(failure.nextRetryDelay);
    expect(delay).toBeGreaterThanOrEqual(2_000);
    expect(delay).toBeLessThanOrEqual(2_206);
  });

  it('leaves nextRetryDelay to the retry policy when a 429 gives no wait', () => {
    const failure = toActivityFailure(rateLimit('Rate limit reached for requests'), CONTEXT);
    expect(failure.type).toBe('RateLimitError');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBeUndefined();
  });

  it('maps insufficient_quota to a non-retryable failure', () => {
    const failure = toActivityFailure(
      rateLimit(QUOTA_MESSAGE, {}, 'insufficient_quota', 'insufficient_quota'),
      CONTEXT,
    );
    expect(failure.type).toBe('InsufficientQuotaError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.nextRetryDelay).toBeUndefined();
  });

  it('maps "Request too large" (larger than the whole TPM) to a non-retryable failure', () => {
    const failure = toActivityFailure(rateLimit(TOO_LARGE_MESSAGE), CONTEXT);
    expect(failure.type).toBe('RequestTooLargeError');
    expect(failure.nonRetryable).toBe(true);
  });

  it.each([
    [400, 'BadRequestError'],
    [401, 'AuthenticationError'],
    [403, 'PermissionDeniedError'],
    [404, 'NotFoundError'],
    [422, 'UnprocessableEntityError'],
  ])('maps %i to a non-retryable %s', (status, type) => {
    const failure = toActivityFailure(statusError(status), CONTEXT);
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual([{ attempt: 3, status }]);
    expect(failure.message).toContain('something went wrong');
  });

  it.each([
    [408, 'HTTP408Error'],
    [409, 'ConflictError'],
    [500, 'InternalServerError'],
    [502, 'InternalServerError'],
    [503, 'InternalServerError'],
  ])('maps %i to a retryable %s', (status, type) => {
    const failure = toActivityFailure(statusError(status), CONTEXT);
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(false);
    expect(retryableTypes(failure)).toBe(true);
    expect(failure.details).toEqual([{ attempt: 3, status }]);
  });

  it('maps a 502 with an HTML body (no JSON error) to a retryable failure', () => {
    const error = OpenAI.APIError.generate(502, '<html>Bad gateway</html>', undefined, new Headers());
    const failure = toActivityFailure(error, CONTEXT);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.details).toEqual([{ attempt: 3, status: 502 }]);
  });

  // openai-node's APIError.message already starts with the status: the Run sheet's reasons must not say it twice.
  it('states the status once, and keeps only the first line of the message', () => {
    expect(toActivityFailure(rateLimit(TPM_MESSAGE), CONTEXT).message).toBe(`429 ${TPM_MESSAGE}`);
    expect(toActivityFailure(statusError(401, 'Incorrect API key provided'), CONTEXT).message).toBe(
      '401 Incorrect API key provided',
    );
    const multiLine = statusError(500, `first line\nsecond line ${'x'.repeat(50)}`);
    expect(toActivityFailure(multiLine, CONTEXT).message).toBe('500 first line');
  });

  it('maps a dropped connection to a retryable ConnectionError', () => {
    const error = new OpenAI.APIConnectionError({
      message: 'Connection error.',
      cause: new Error('ECONNRESET'),
    });
    const failure = toActivityFailure(error, CONTEXT);
    expect(failure.type).toBe('ConnectionError');
    expect(failure.nonRetryable).toBe(false);
    expect(retryableTypes(failure)).toBe(true);
    expect(failure.details).toEqual([{ attempt: 3 }]);
  });

  it('maps a timeout to a retryable TimeoutError (not a generic connection error)', () => {
    const failure = toActivityFailure(new OpenAI.APIConnectionTimeoutError(), CONTEXT);
    expect(failure.type).toBe('TimeoutError');
    expect(failure.nonRetryable).toBe(false);
    expect(retryableTypes(failure)).toBe(true);
  });

  it('maps unusable model output to a retryable ModelOutputError', () => {
    const failure = toActivityFailure(new ModelOutputError('missing_ids', '2 of 10 ids unanswered'), CONTEXT);
    expect(failure.type).toBe('ModelOutputError');
    expect(failure.message).toBe('2 of 10 ids unanswered');
    expect(failure.nonRetryable).toBe(false);
    expect(retryableTypes(failure)).toBe(true);
  });

  it('passes an ApplicationFailure through and wraps anything else', () => {
    const own = ApplicationFailure.create({ type: 'Mine', message: 'x', nonRetryable: true });
    expect(toActivityFailure(own, CONTEXT)).toBe(own);
    const wrapped = toActivityFailure(new TypeError('boom'), CONTEXT);
    expect(wrapped.type).toBe('TypeError');
    expect(wrapped.message).toBe('boom');
    expect(toActivityFailure('plain string', CONTEXT).message).toBe('plain string');
  });
});

describe('readRateLimit', () => {
  it('reads the x-ratelimit-* numbers', () => {
    const headers = new Headers({
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '499',
      'x-ratelimit-limit-tokens': '200000',
      'x-ratelimit-remaining-tokens': '198765',
      'x-ratelimit-reset-requests': '120ms',
      'x-ratelimit-reset-tokens': '368ms',
      'x-request-id': 'req_1',
    });
    expect(readRateLimit(headers)).toEqual({
      limitRequests: 500,
      remainingRequests: 499,
      limitTokens: 200_000,
      remainingTokens: 198_765,
    });
  });

  it('reports nothing when the headers are absent, and only what is there otherwise', () => {
    expect(readRateLimit(new Headers({ 'content-type': 'application/json' }))).toEqual({});
    expect(
      readRateLimit(
        new Headers({ 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': 'lots' }),
      ),
    ).toEqual({ limitTokens: 1_000 });
  });
});
