import { describe, expect, it } from 'vitest';
import {
  BATCH_FILE_LIMITS,
  MAX_BATCH_ROUNDS,
  afterRound,
  customIdOf,
  cutFiles,
  indexOfCustomId,
  nextPollMs,
} from '../../domain/batch-api.js';

describe('cutFiles', () => {
  it('cuts at the line limit and at the byte limit, whichever comes first, keeping the order', () => {
    expect(cutFiles([1, 1, 1, 1, 1], { lines: 2, bytes: 100 })).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
    expect(cutFiles([40, 40, 40, 10, 90], { lines: 10, bytes: 100 })).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
    expect(cutFiles([], { lines: 2, bytes: 100 })).toEqual([]);
  });

  it("stays under OpenAI's 50,000 requests and 200 MB a file", () => {
    const files = cutFiles(Array.from({ length: 120_001 }, () => 1_000));
    expect(files.map(([from, to]) => to - from)).toEqual([50_000, 50_000, 20_001]);
    const big = cutFiles(Array.from({ length: 30_000 }, () => 10_000));
    for (const [from, to] of big) expect((to - from) * 10_000).toBeLessThanOrEqual(BATCH_FILE_LIMITS.bytes);
    expect(BATCH_FILE_LIMITS.bytes).toBeLessThan(200 * 1024 * 1024);
  });

  it('gives a line larger than the limit a file of its own', () => {
    expect(cutFiles([10, 500, 10], { lines: 10, bytes: 100 })).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });
});

describe('custom ids', () => {
  it('map a batch index there and back, and nothing else', () => {
    expect(indexOfCustomId(customIdOf(0))).toBe(0);
    expect(indexOfCustomId(customIdOf(123_456))).toBe(123_456);
    expect(indexOfCustomId('batch-x')).toBeUndefined();
    expect(indexOfCustomId('other-1')).toBeUndefined();
  });
});

describe('polling', () => {
  it('grows by half each time up to the most, never below the first wait', () => {
    const poll = { initialMs: 30_000, maxMs: 600_000 };
    const waits = [poll.initialMs];
    for (let i = 0; i < 10; i += 1) waits.push(nextPollMs(waits.at(-1) ?? 0, poll));
    expect(waits.slice(0, 4)).toEqual([30_000, 45_000, 67_500, 101_250]);
    expect(waits.at(-1)).toBe(600_000);
    expect(waits).toEqual([...waits].sort((a, b) => a - b));
    expect(nextPollMs(0, poll)).toBe(30_000);
  });
});

describe('the retry rule after a round', () => {
  const round = { round: 1, remaining: 500, codedThisRound: 9_000, totalLines: 10_000 };
  it('sends many lines left into a further batch', () => {
    expect(afterRound(round)).toBe('batch');
  });
  it('asks a few directly: at most 20, or at most 1 % of the lines', () => {
    expect(afterRound({ ...round, remaining: 100 })).toBe('sync');
    expect(afterRound({ ...round, remaining: 101 })).toBe('batch');
    expect(afterRound({ ...round, totalLines: 100, remaining: 20 })).toBe('sync');
    expect(afterRound({ ...round, totalLines: 100, remaining: 21 })).toBe('batch');
  });
  it('goes direct after the last round, or after a round that coded nothing', () => {
    expect(afterRound({ ...round, round: MAX_BATCH_ROUNDS })).toBe('sync');
    expect(afterRound({ ...round, codedThisRound: 0 })).toBe('sync');
  });
});
