import { describe, expect, it } from 'vitest';
import { hashSeed, sampleIndexes, seededRandom, shuffle, weightedSample } from '../../domain/sampling.js';

describe('seededRandom', () => {
  it('repeats its sequence for a seed, and another seed gives another sequence', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
    for (const x of seqA) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('hashSeed', () => {
  it('is stable and tells parts apart', () => {
    expect(hashSeed(1, 'read')).toBe(hashSeed(1, 'read'));
    expect(hashSeed(1, 'read')).not.toBe(hashSeed(1, 'order'));
    expect(hashSeed('ab', 'c')).not.toBe(hashSeed('a', 'bc'));
  });
});

describe('shuffle', () => {
  it('keeps every item once', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const shuffled = shuffle(items, seededRandom(7));
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
  });
});

describe('sampleIndexes', () => {
  it('draws n distinct indexes below count, sorted, the same for the same seed', () => {
    const s = sampleIndexes(1_000, 50, seededRandom(3));
    expect(s).toHaveLength(50);
    expect(new Set(s).size).toBe(50);
    expect(s).toEqual([...s].sort((a, b) => a - b));
    expect(s.every((i) => i >= 0 && i < 1_000)).toBe(true);
    expect(sampleIndexes(1_000, 50, seededRandom(3))).toEqual(s);
  });

  it('gives every index when n is at least count', () => {
    expect(sampleIndexes(5, 10, seededRandom(1))).toEqual([0, 1, 2, 3, 4]);
  });

  it('is uniform: each index is drawn about n/count of the time', () => {
    const hits = new Array<number>(10).fill(0);
    const random = seededRandom(11);
    for (let r = 0; r < 5_000; r += 1)
      for (const i of sampleIndexes(10, 3, random)) hits[i] = (hits[i] ?? 0) + 1;
    for (const h of hits) expect(Math.abs(h - 1_500)).toBeLessThan(150);
  });
});

describe('weightedSample', () => {
  it('draws n distinct indexes, never one of weight 0', () => {
    const weights = [5, 0, 1, 1, 0, 3, 2];
    const s = weightedSample(weights, 3, seededRandom(5));
    expect(s).toHaveLength(3);
    expect(new Set(s).size).toBe(3);
    expect(s.some((i) => weights[i] === 0)).toBe(false);
    expect(weightedSample(weights, 10, seededRandom(5))).toEqual([0, 2, 3, 5, 6]);
  });

  it('favours heavy items in proportion: a weight-9 item beside nine weight-1 items is drawn first about half the time', () => {
    const weights = [9, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    const random = seededRandom(99);
    let heavy = 0;
    const rounds = 4_000;
    for (let r = 0; r < rounds; r += 1) if (weightedSample(weights, 1, random)[0] === 0) heavy += 1;
    expect(Math.abs(heavy / rounds - 0.5)).toBeLessThan(0.03);
  });
});
