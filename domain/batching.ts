import { InvalidSettingError } from './errors.js';

export type BatchSize = number | 'auto';

export const MAX_BATCH_SIZE = 200;

export function parseBatchSize(value: string | number): BatchSize {
  if (value === 'auto') return 'auto';
  // Plain digits only: Number() would also take '0x10' and '1e1'.
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_BATCH_SIZE) {
    throw new InvalidSettingError(
      'BATCH_SIZE',
      value,
      `must be "auto" or a whole number from 1 to ${MAX_BATCH_SIZE}`,
    );
  }
  return n;
}

export interface AutoBatchOptions {
  /** Estimated tokens one request may carry: instructions + answers + the output ceiling. */
  readonly tokenTarget: number;
  /** Tokens every request of the job carries whatever its answers (instructions, categories, schema). */
  readonly fixedTokens: number;
  /** Output tokens reserved per answer (see `maxCompletionTokens`). */
  readonly completionTokensPerItem: number;
  readonly maxItems: number;
  readonly countTokens: (text: string) => number;
  /**
   * Prompt tokens each answer adds beyond its text (its framing in the message and the schema); the JSON
   * framing of the layout before the compact one, `{"id":"123","text":""},`, when not given.
   */
  readonly itemOverheadTokens?: number;
}

const ITEM_OVERHEAD_TOKENS = 10;

/** Cuts items into batches of `size`, in order. */
export function cutFixed<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`batch size must be a whole number ≥ 1, got ${size}`);
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

/**
 * Fills each batch with answers, in order, while the request's estimate stays within the token target, so
 * fewer calls carry the same answers. An answer too long to share a request goes alone.
 */
export function cutByTokens<T extends { readonly text: string }>(
  items: readonly T[],
  options: AutoBatchOptions,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let tokens = options.fixedTokens;
  for (const item of items) {
    const cost =
      options.countTokens(item.text) +
      (options.itemOverheadTokens ?? ITEM_OVERHEAD_TOKENS) +
      options.completionTokensPerItem;
    if (current.length > 0 && (tokens + cost > options.tokenTarget || current.length >= options.maxItems)) {
      batches.push(current);
      current = [];
      tokens = options.fixedTokens;
    }
    current.push(item);
    tokens += cost;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** The estimate `cutByTokens` packs against, for one batch (the tests check the packing with it). */
export function estimateBatchTokens<T extends { readonly text: string }>(
  items: readonly T[],
  options: Omit<AutoBatchOptions, 'tokenTarget' | 'maxItems'>,
): number {
  return items.reduce(
    (sum, item) =>
      sum +
      options.countTokens(item.text) +
      (options.itemOverheadTokens ?? ITEM_OVERHEAD_TOKENS) +
      options.completionTokensPerItem,
    options.fixedTokens,
  );
}
