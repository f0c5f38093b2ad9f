/**
 * Seeded randomness for choices that must repeat: the same file and settings choose the same answers, so a
 * re-run (or a resumed run) reads the same chunks and finds them already done. Pure: the seed is passed in.
 */

/** mulberry32: a small, fast PRNG with a 32-bit state; good enough for sampling, not for secrets. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a over the parts' text: a stable 32-bit seed from a seed and a purpose ("chunks", "measure"). */
export function hashSeed(...parts: ReadonlyArray<string | number>): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('\u0000')) {
    h ^= ch.codePointAt(0) ?? 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A shuffled copy (Fisher–Yates). */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

/**
 * `n` of `weights.length` indexes without replacement, each drawn with probability proportional to its
 * weight (Efraimidis–Spirakis: the n largest keys ln(u) / w), returned in ascending order. Weights ≤ 0 are
 * never drawn; fewer than `n` positive weights give them all.
 */
export function weightedSample(weights: readonly number[], n: number, random: () => number): number[] {
  return weightedOrder(weights, random)
    .slice(0, Math.max(0, n))
    .sort((a, b) => a - b);
}

/**
 * The indexes of positive weights in the order of their keys ln(u) / w, largest first: any first `n` of it
 * is a weighted sample of `n` without replacement (`weightedSample`), so a draw can stop at a budget.
 */
export function weightedOrder(weights: readonly number[], random: () => number): number[] {
  const keyed: Array<{ index: number; key: number }> = [];
  weights.forEach((w, index) => {
    // A draw is taken for every index, drawn or not, so the sequence does not depend on which weights are 0.
    const u = Math.max(random(), Number.MIN_VALUE);
    if (w > 0) keyed.push({ index, key: Math.log(u) / w });
  });
  keyed.sort((a, b) => b.key - a.key || a.index - b.index);
  return keyed.map((k) => k.index);
}

/** `n` of `count` indexes drawn uniformly without replacement (partial Fisher–Yates), in ascending order. */
export function sampleIndexes(count: number, n: number, random: () => number): number[] {
  const take = Math.min(Math.max(0, n), count);
  // Only the swapped positions are remembered, so memory follows `n`, not `count`.
  const swapped = new Map<number, number>();
  const at = (i: number) => swapped.get(i) ?? i;
  const chosen: number[] = [];
  for (let i = 0; i < take; i += 1) {
    const j = i + Math.floor(random() * (count - i));
    const picked = at(j);
    swapped.set(j, at(i));
    chosen.push(picked);
  }
  return chosen.sort((a, b) => a - b);
}
