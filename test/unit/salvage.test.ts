import { describe, expect, it } from 'vitest';
import type { PieceResult } from '../../domain/salvage.js';
import { aloneReason, mergePieces, pieceKey, splitForRetry } from '../../domain/salvage.js';

const ids = (n: number, from = 1) => Array.from({ length: n }, (_, i) => String(from + i));

function piece(over: Partial<PieceResult> & { ids: readonly string[] }): PieceResult {
  return { labels: {}, fallbacks: {}, unresolved: [], ...over };
}

describe('splitForRetry', () => {
  it('halves, the first half the larger, down to one id asked alone', () => {
    expect(splitForRetry(ids(10))).toEqual([ids(5), ids(5, 6)]);
    expect(splitForRetry(ids(5))).toEqual([ids(3), ids(2, 4)]);
    expect(splitForRetry(['7', '9'])).toEqual([['7'], ['9']]);
    expect(splitForRetry(['7'])).toEqual([['7']]);
    expect(splitForRetry([])).toEqual([]);
  });

  it('reaches single answers in about log2(n) rounds: 10 bad answers take 18 requests at most (2n − 2)', () => {
    // Every answer fails every time: each group is asked once, its bad ones halved again.
    let requests = 0;
    const queue = splitForRetry(ids(10));
    for (let g = queue.shift(); g; g = queue.shift()) {
      requests += 1;
      if (g.length > 1) queue.push(...splitForRetry(g));
    }
    expect(requests).toBe(18);
  });
});

describe('pieceKey', () => {
  it('names the ids whatever their order, and differs for other ids', () => {
    expect(pieceKey(['3', '1', '10'])).toBe(pieceKey(['1', '3', '10']));
    expect(pieceKey(['1', '3'])).not.toBe(pieceKey(['1', '4']));
    expect(pieceKey(['12'])).not.toBe(pieceKey(['1', '2']));
    expect(pieceKey(ids(200))).toMatch(/^200-[0-9a-f]{8}$/);
  });
});

describe('mergePieces', () => {
  const all = ids(6);
  const root = piece({
    ids: all,
    labels: { '1': ['Price'], '2': ['Service'], '4': ['Price'], '6': ['Other'] },
    unresolved: ['3', '5'],
  });

  it('walks the halving from the first piece: every id once, labelled or fallen back alone', () => {
    const stored = new Map([
      [pieceKey(['3']), piece({ ids: ['3'], labels: { '3': ['Quality'] } })],
      [pieceKey(['5']), piece({ ids: ['5'], fallbacks: { '5': 'fell back alone: left out' } })],
    ]);
    const merged = mergePieces(all, root, (g) => stored.get(pieceKey(g)));
    expect(merged).toEqual({
      complete: true,
      labels: new Map([
        ['1', ['Price']],
        ['2', ['Service']],
        ['4', ['Price']],
        ['6', ['Other']],
        ['3', ['Quality']],
      ]),
      fallbacks: new Map([['5', 'fell back alone: left out']]),
      used: [pieceKey(['3']), pieceKey(['5'])],
    });
  });

  it('says which groups are still to ask, and ignores pieces the halving does not lead to', () => {
    const stray = new Map([[pieceKey(['3', '5']), piece({ ids: ['3', '5'], labels: { '3': ['Price'] } })]]);
    expect(mergePieces(all, root, (g) => stray.get(pieceKey(g)))).toEqual({
      complete: false,
      missing: [['3'], ['5']],
    });
  });

  it('gives a group that ran out of retries its reason', () => {
    const stored = new Map([[pieceKey(['3']), piece({ ids: ['3'], labels: { '3': ['Quality'] } })]]);
    const merged = mergePieces(all, root, (g) => stored.get(pieceKey(g)), [
      { ids: ['5'], reason: 'HTTP 500 after 10 attempts' },
    ]);
    expect(merged.complete && merged.fallbacks).toEqual(new Map([['5', 'HTTP 500 after 10 attempts']]));
  });

  it('is incomplete when an id of the batch ends with nothing (a first piece that lost it)', () => {
    const lossy = piece({ ids: all, labels: { '1': ['Price'] }, unresolved: [] });
    expect(mergePieces(all, lossy, () => undefined)).toEqual({
      complete: false,
      missing: [['2', '3', '4', '5', '6']],
    });
  });

  it('a batch of one whose answer failed alone: complete with no other piece', () => {
    const one = piece({ ids: ['1'], fallbacks: { '1': 'fell back alone: refused' } });
    expect(mergePieces(['1'], one, () => undefined)).toMatchObject({ complete: true, used: [] });
  });
});

describe('aloneReason', () => {
  it('says what the model did to the answer, with the detail', () => {
    expect(aloneReason('missing_ids', '')).toBe('fell back alone: the model left this answer out');
    expect(aloneReason('unknown_category', 'gave "Unlisted"')).toBe(
      'fell back alone: the model gave a category that is not in the list (gave "Unlisted")',
    );
  });
});
