/**
 * The soak under faults (bench/soak-scenario.ts) at a size CI can afford: every fault at once, two worker
 * processes, one SIGKILLed and restarted twice. `npx tsx bench/soak.ts` runs it at 10,000 answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOAK_FAULTS, SOAK_SETUP, runSoak, soakAnswers, soakFaultRules } from '../../bench/soak-scenario.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness } from '../helpers/harness.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('soak: 20 % 429s, 5 % 5xx, 2 % hangs, 2 % malformed, 1 % wrong ids, a worker killed twice', () => {
  it('codes every row exactly once, Other only where an answer failed alone after salvage', async () => {
    const answers = 1_500;
    // One answer the model always leaves out: it must fall back alone, and be the only kind of Other but
    // answers about nothing. Each fault kind once by count too: at this size a 0.5 % share may not come up.
    const skipped = soakAnswers(answers)[700] ?? '';
    const faultRules = [
      { kind: 'missing_id' as const, match: skipped },
      ...Object.keys(SOAK_FAULTS).map((kind, k) => ({
        kind: kind as keyof typeof SOAK_FAULTS,
        count: 1,
        after: 10 + 10 * k,
      })),
      ...soakFaultRules(),
    ];
    const { figures: f, checks } = await runSoak(
      {
        client: h.env.client,
        temporalAddress: h.env.address,
        sim: h.sim,
        dataDir: h.dataDir,
        store: h.store,
        searchAttributes: true,
      },
      { ...SOAK_SETUP, answers, faultRules },
    );
    expect(checks).toEqual({
      rowsNotOnce: [],
      rowsMislabelled: [],
      otherNotFallenAlone: [],
      fallbackNotAlone: [],
      batchesNotCoded: [],
    });
    // Every fault kind was met, and the victim held work each time it was killed.
    for (const kind of Object.keys(SOAK_FAULTS)) expect(f.faults[kind], kind).toBeGreaterThan(0);
    expect(f.kills).toHaveLength(2);
    for (const kill of f.kills) expect(kill.held).toBeGreaterThan(0);
    // The answer always left out fell back alone (the checks above: on no other row than its own), after
    // a salvage; answers that failed alone by chance may join it.
    expect(f.salvagedBatches).toBeGreaterThan(0);
    expect(f.answersFallenBackAlone).toBeGreaterThanOrEqual(1);
    expect(f.rowsOtherAfterFailure).toBeGreaterThanOrEqual(f.answersFallenBackAlone);
    // Faults cost retries, not whole batches over again: fewer extra calls than batches (a batch retried
    // ten times, or every answer asked alone, would pass that many).
    expect(f.extraCalls).toBeGreaterThan(0);
    expect(f.extraCalls).toBeLessThan(f.batches);
    process.stderr.write(
      `soak, ${f.answers} answers: ${f.batches} batches, ${f.requests} requests (${f.extraCalls} extra), ` +
        `${f.salvagedBatches} salvaged, ${f.rowsOtherAfterFailure} rows Other after failing alone\n`,
    );
  }, 900_000);
});
