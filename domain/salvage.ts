/**
 * Salvage: what happens to a batch the model answered partly wrong. The answers it got right are kept; the
 * bad ones are asked again in halves (10 → 5 + 5 → … → 1), each half a request of its own, until every answer
 * has its labels or has failed alone, which makes it fall back to the fallback label with its reason after a
 * second try (`LONE_ANSWER_ATTEMPTS`): a model that always leaves out one answer costs a few calls for that
 * answer, not the batch's retries.
 *
 * Each request's outcome is a piece, stored under a key made from the batch and the ids it asked, and never
 * rewritten; the batch's result is assembled from its pieces by walking the same halving from the first one.
 * The workflow and the assembly derive the tree the same way, so a crash, a retry or a new run of the workflow
 * finds the pieces already asked and asks only the rest.
 */
import type { IdProblem, ModelOutputProblem } from './validate.js';

/**
 * A whole answer unusable (not JSON of the schema, cut off, refused): asked as a whole this many times in all,
 * then halved like bad answers (an answer alone falls back with its reason). Only the unusable answers count:
 * a 500 or a timeout between them is the retry policy's. Validation failures of single answers are halved at
 * once: they repeat more often than not.
 */
export const WHOLE_ANSWER_ATTEMPTS = 3;

/**
 * An answer asked alone that fails validation (left out, labelled off the list): asked this many times in all
 * before it falls back, so that a one-off slip does not make it `Other`; an answer that fails every time costs
 * one more call and one retry interval. Only the asks the model got wrong count: a 500 or a timeout asked
 * nothing, and is the retry policy's to repeat (a 500 then a slip used to make it `Other`). In Batch API mode
 * a line that asked a batch's one answer and got it wrong is one of these asks (`asksAloneAgain` counts both).
 */
export const LONE_ANSWER_ATTEMPTS = 2;

/** The halves of the ids to ask again, in order; a single id stays one group (asked alone). */
export function splitForRetry(ids: readonly string[]): string[][] {
  if (ids.length <= 1) return ids.length === 1 ? [[...ids]] : [];
  const half = Math.ceil(ids.length / 2);
  return [ids.slice(0, half), ids.slice(half)];
}

/**
 * The key of the piece that asked these ids (order does not matter): short, stable, and safe in a file name.
 * The ids of one batch are distinct, so a piece's ids name it; FNV-1a keeps the name short for long lists.
 */
export function pieceKey(ids: readonly string[]): string {
  const text = [...ids].sort(compareIds).join(',');
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${ids.length}-${hash.toString(16).padStart(8, '0')}`;
}

/** Prompt ids are positions ("1", "2", …): numeric order first, then text. */
function compareIds(a: string, b: string): number {
  return Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** What one request of a salvage settled, by prompt id. */
export interface PieceResult {
  /** The ids this request asked. */
  readonly ids: readonly string[];
  /** Labels of the answers that passed validation. */
  readonly labels: Readonly<Record<string, readonly string[]>>;
  /** Answers that failed alone: they fall back, with the reason. */
  readonly fallbacks: Readonly<Record<string, string>>;
  /** Answers to ask again, in halves. */
  readonly unresolved: readonly string[];
}

/** A group of ids whose request ran out of retries (a transport failure): its answers fall back with the reason. */
export interface FailedGroup {
  readonly ids: readonly string[];
  readonly reason: string;
}

export type MergedPieces =
  | {
      readonly complete: true;
      /** Labels by id, for every id not fallen back. */
      readonly labels: ReadonlyMap<string, readonly string[]>;
      /** Reasons by id, for the answers that fell back alone, in the batch's order. */
      readonly fallbacks: ReadonlyMap<string, string>;
      /** Keys of the pieces the halving led to (the requests after the first one), in the order walked. */
      readonly used: readonly string[];
    }
  | { readonly complete: false; readonly missing: readonly (readonly string[])[] };

/**
 * Assembles a batch from its first piece and the pieces of its halvings (`piece` finds a stored one by its
 * ids), and the groups that ran out of retries. Complete when every id of the batch ends with labels or a
 * fallback, each exactly once; else the groups still to ask.
 */
export function mergePieces(
  itemIds: readonly string[],
  root: PieceResult,
  piece: (ids: readonly string[]) => PieceResult | undefined,
  failed: readonly FailedGroup[] = [],
): MergedPieces {
  const labels = new Map<string, readonly string[]>();
  const fallbacks = new Map<string, string>();
  const missing: string[][] = [];
  const failedByKey = new Map(failed.map((f) => [pieceKey(f.ids), f.reason]));
  const take = (p: PieceResult) => {
    for (const [id, l] of Object.entries(p.labels)) if (!labels.has(id)) labels.set(id, l);
    for (const [id, reason] of Object.entries(p.fallbacks)) if (!fallbacks.has(id)) fallbacks.set(id, reason);
  };
  take(root);
  const used: string[] = [];
  const queue = splitForRetry(root.unresolved);
  for (let group = queue.shift(); group !== undefined; group = queue.shift()) {
    const found = piece(group);
    if (found) {
      used.push(pieceKey(group));
      take(found);
      queue.unshift(...splitForRetry(found.unresolved));
      continue;
    }
    const reason = failedByKey.get(pieceKey(group));
    if (reason === undefined) missing.push(group);
    else for (const id of group) if (!fallbacks.has(id)) fallbacks.set(id, reason);
  }
  if (missing.length > 0) return { complete: false, missing };
  const unsettled = itemIds.filter((id) => labels.has(id) === fallbacks.has(id));
  if (unsettled.length > 0) return { complete: false, missing: [unsettled] };
  const ordered = new Map(
    itemIds.filter((id) => fallbacks.has(id)).map((id) => [id, fallbacks.get(id) ?? '']),
  );
  return { complete: true, labels, fallbacks: ordered, used };
}

/** Why one answer failed alone, for the Run sheet. */
export function aloneReason(problem: IdProblem['problem'] | ModelOutputProblem, detail: string): string {
  const what: Record<string, string> = {
    missing_ids: 'the model left this answer out',
    duplicate_ids: 'the model answered this answer twice',
    unknown_category: 'the model gave a category that is not in the list',
    extra_ids: 'the model answered ids that were not asked',
    malformed_json: 'the model’s answer was not JSON of the schema',
    truncated: 'the model’s answer was cut off',
    refusal: 'the model refused',
  };
  const head = `fell back alone: ${what[problem] ?? problem}`;
  return detail === '' ? head : `${head} (${detail})`;
}
