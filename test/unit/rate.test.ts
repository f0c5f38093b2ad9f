import { describe, expect, it } from 'vitest';

import type { AdaptiveWindow } from '../../domain/rate.js';
import {
  TokenBucket,
  formatGoDuration,
  initialWindow,
  isLowRemaining,
  parseGoDuration,
  windowHeldWhenLow,
  windowOnRateLimited,
  windowOnSuccess,
  windowWithMax,
} from '../../domain/rate.js';

describe('parseGoDuration', () => {
  it.each([
    ['12ms', 12],
    ['644ms', 644],
    ['1s', 1_000],
    ['9.816s', 9_816],
    ['1m26.4s', 86_400],
    ['6m0s', 360_000],
    ['1h2m3s', 3_723_000],
    ['0', 0],
    ['0s', 0],
    [' 20s ', 20_000],
    ['1500us', 1.5],
    ['2000000ns', 2],
  ])('%j → %f ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each([undefined, null, '', 'abc', '1', '1.5', 's', '-1s', '1m 2s', '1x', '12msx', 'ms12', '1d'])(
    '%j → undefined',
    (text) => {
      expect(parseGoDuration(text)).toBeUndefined();
    },
  );
});

describe('formatGoDuration', () => {
  it.each([
    [0, '0ms'],
    [12, '12ms'],
    [644, '644ms'],
    [1_000, '1s'],
    [9_816, '9.816s'],
    [86_400, '1m26.4s'],
    [360_000, '6m0s'],
    [3_723_004, '1h2m3.004s'],
  ])('%i ms → %s', (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });

  it('never writes a negative duration', () => {
    expect(formatGoDuration(-50)).toBe('0ms');
  });

  it('round-trips through parseGoDuration to the millisecond', () => {
    for (const ms of [0, 1, 17, 999, 1_000, 1_001, 59_999, 60_000, 61_234, 3_599_999, 3_600_000, 7_384_567]) {
      expect(parseGoDuration(formatGoDuration(ms)), String(ms)).toBeCloseTo(ms, 6);
    }
  });
});

describe('TokenBucket', () => {
  const T0 = 1_000_000;

  it('starts full unless told otherwise', () => {
    expect(new TokenBucket(60, 60_000, T0).available(T0)).toBe(60);
    expect(new TokenBucket(60, 60_000, T0, 5).available(T0)).toBe(5);
  });

  it('refills at capacity per period, continuously, up to capacity', () => {
    const bucket = new TokenBucket(600, 60_000, T0, 0);
    expect(bucket.ratePerMs).toBeCloseTo(0.01, 12);
    expect(bucket.available(T0 + 1_000)).toBeCloseTo(10, 9);
    expect(bucket.available(T0 + 30_000)).toBeCloseTo(300, 9);
    expect(bucket.available(T0 + 600_000)).toBe(600);
  });

  it('ignores a clock that goes backwards', () => {
    const bucket = new TokenBucket(60, 60_000, T0, 10);
    expect(bucket.available(T0 - 5_000)).toBe(10);
  });

  it('waitFor says how long until the cost is available, without taking it', () => {
    const bucket = new TokenBucket(60, 60_000, T0, 2);
    expect(bucket.waitFor(2, T0)).toBe(0);
    expect(bucket.waitFor(5, T0)).toBeCloseTo(3_000, 6);
    expect(bucket.available(T0)).toBe(2);
  });

  it('reserve queues callers at exactly the refill rate: 10 reservations on an empty 60/min bucket, 1 s apart', () => {
    const bucket = new TokenBucket(60, 60_000, T0, 0);
    const waits = Array.from({ length: 10 }, () => bucket.reserve(1, T0));
    waits.forEach((wait, i) => expect(wait).toBeCloseTo((i + 1) * 1_000, 6));
  });

  it('reserve is free while the bucket holds the cost, and counts the debt later', () => {
    const bucket = new TokenBucket(60, 60_000, T0, 2);
    expect(bucket.reserve(1, T0)).toBe(0);
    expect(bucket.reserve(1, T0)).toBe(0);
    expect(bucket.reserve(1, T0)).toBeCloseTo(1_000, 6);
    // 1.5 s later the debt of 1 is paid and 0.5 is back: the next one waits 0.5 s.
    expect(bucket.reserve(1, T0 + 1_500)).toBeCloseTo(500, 6);
    // A debt grows with each reservation made at the same instant.
    expect(bucket.reserve(1, T0 + 1_500)).toBeCloseTo(1_500, 6);
  });

  it('adjust gives back or takes more, never above capacity', () => {
    const bucket = new TokenBucket(100, 60_000, T0, 50);
    bucket.adjust(30, T0);
    expect(bucket.available(T0)).toBe(80);
    bucket.adjust(500, T0);
    expect(bucket.available(T0)).toBe(100);
    bucket.adjust(-150, T0);
    expect(bucket.available(T0)).toBe(-50);
  });

  it('alignDown lowers to what the server reports, never raises', () => {
    const bucket = new TokenBucket(100, 60_000, T0, 50);
    bucket.alignDown(70, T0);
    expect(bucket.available(T0)).toBe(50);
    bucket.alignDown(20, T0);
    expect(bucket.available(T0)).toBe(20);
  });

  it('resetIn is the time to full, as x-ratelimit-reset-* reports it', () => {
    // limit 200, remaining 150 → reset (200 − 150) × 60 s / 200 = 15 s.
    const bucket = new TokenBucket(200, 60_000, T0, 150);
    expect(bucket.resetIn(T0)).toBeCloseTo(15_000, 6);
    expect(bucket.resetIn(T0 + 20_000)).toBe(0);
    expect(new TokenBucket(200, 60_000, T0).resetIn(T0)).toBe(0);
  });
});

describe('the adaptive window (AIMD)', () => {
  const succeed = (w: AdaptiveWindow, times: number, low = false) => {
    let next = w;
    for (let i = 0; i < times; i += 1) next = windowOnSuccess(next, low);
    return next;
  };

  it('starts fully open', () => {
    expect(initialWindow(8)).toEqual({ size: 8, max: 8, streak: 0, cooldown: 0 });
  });

  it('halves on a 429, once per burst thanks to the cooldown', () => {
    let w = windowOnRateLimited(initialWindow(8));
    expect(w.size).toBe(4);
    for (let i = 0; i < 7; i += 1) w = windowOnRateLimited(w);
    expect(w.size).toBe(4);
  });

  it('halves again once the cooldown has passed', () => {
    let w = windowOnRateLimited(initialWindow(8));
    w = succeed(w, w.cooldown);
    expect(w.cooldown).toBe(0);
    expect(windowOnRateLimited(w).size).toBe(Math.floor(w.size / 2));
    expect(windowOnRateLimited(w).size).toBeLessThan(w.size);
  });

  it('never goes below 1', () => {
    let w = initialWindow(3);
    for (let i = 0; i < 10; i += 1) {
      w = windowOnRateLimited(w);
      w = { ...w, cooldown: 0 };
    }
    expect(w.size).toBe(1);
  });

  it('grows by one after a full window of successes, up to max', () => {
    let w: AdaptiveWindow = { size: 2, max: 4, streak: 0, cooldown: 0 };
    w = succeed(w, 1);
    expect(w.size).toBe(2);
    w = succeed(w, 1);
    expect(w.size).toBe(3);
    w = succeed(w, 2);
    expect(w.size).toBe(3);
    w = succeed(w, 1);
    expect(w.size).toBe(4);
    w = succeed(w, 100);
    expect(w.size).toBe(4);
  });

  it('narrows when the API reports little remaining, as a 429 would, once per cooldown', () => {
    let w = windowOnSuccess(initialWindow(8), true);
    expect(w).toMatchObject({ size: 4, streak: 0, cooldown: 8 });
    // Still low, but within the cooldown: the same burst does not halve it again.
    for (let i = 0; i < 7; i += 1) w = windowOnSuccess(w, true);
    expect(w.size).toBe(4);
    // Low past the cooldown: halves again, down to one and no further.
    w = succeed(w, 20, true);
    expect(w.size).toBe(1);
  });

  it('windowHeldWhenLow keeps the older rule for replays: low remaining holds the window, nothing more', () => {
    const narrowed = { size: 4, max: 8, streak: 3, cooldown: 2 };
    expect(windowHeldWhenLow(narrowed, true)).toEqual({ size: 4, max: 8, streak: 0, cooldown: 1 });
    expect(windowHeldWhenLow(narrowed, false)).toEqual(windowOnSuccess(narrowed, false));
  });

  it('grows back once the API reports room again', () => {
    const narrowed = succeed(initialWindow(8), 12, true);
    expect(narrowed.size).toBeLessThan(8);
    expect(succeed(narrowed, 200, false).size).toBe(8);
  });

  it('windowWithMax opens to the new maximum at once, keeping the cooldown', () => {
    const narrowed = windowOnRateLimited(initialWindow(8));
    const w = windowWithMax(narrowed, 12);
    expect(w).toMatchObject({ size: 12, max: 12, streak: 0, cooldown: narrowed.cooldown });
    expect(windowWithMax(initialWindow(8), 2)).toMatchObject({ size: 2, max: 2 });
    // A 429 right after still narrows from there (once the cooldown allows it).
    expect(windowOnRateLimited({ ...w, cooldown: 0 }).size).toBe(6);
  });
});

describe('isLowRemaining', () => {
  it('is true below a tenth of either budget', () => {
    expect(isLowRemaining({ limitRequests: 500, remainingRequests: 49 })).toBe(true);
    expect(isLowRemaining({ limitTokens: 200_000, remainingTokens: 19_999 })).toBe(true);
    expect(
      isLowRemaining({ limitRequests: 500, remainingRequests: 400, limitTokens: 1_000, remainingTokens: 5 }),
    ).toBe(true);
  });

  it('ignores a limit that a budget paces (it runs near empty by design), not the other', () => {
    const both = { limitRequests: 500, remainingRequests: 3, limitTokens: 1_000, remainingTokens: 5 };
    expect(isLowRemaining(both, { requests: true, tokens: true })).toBe(false);
    expect(isLowRemaining(both, { requests: true, tokens: false })).toBe(true);
    expect(isLowRemaining(both, { requests: false, tokens: true })).toBe(true);
    expect(
      isLowRemaining({ limitRequests: 500, remainingRequests: 3 }, { requests: true, tokens: false }),
    ).toBe(false);
  });

  it('is false at or above a tenth, or when the headers were missing', () => {
    expect(isLowRemaining({ limitRequests: 500, remainingRequests: 50 })).toBe(false);
    expect(isLowRemaining({ limitRequests: 500, remainingRequests: 499 })).toBe(false);
    expect(isLowRemaining({})).toBe(false);
    expect(isLowRemaining(undefined)).toBe(false);
    expect(isLowRemaining({ remainingTokens: 0 })).toBe(false);
    expect(isLowRemaining({ limitTokens: 0, remainingTokens: 0 })).toBe(false);
  });
});
