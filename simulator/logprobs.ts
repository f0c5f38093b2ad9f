/**
 * Log-probabilities for the simulator's answers, when a request asks for them: the content cut into tokens
 * as o200k cuts verbatim's compact answers (each run of digits one token, each run of punctuation another),
 * each category number sure when the answer is right and unsure when `wrongRate` made it wrong, with an
 * allowed alternative and a token the schema forbids among its `top_logprobs` (so that a client must
 * renormalise over the allowed numbers, as with OpenAI). Every other token is forced: logprob 0.
 */
import type { SimulatedLogprob } from './protocol.js';

/** A right answer's number: renormalised over the allowed alternatives, about 0.96. */
export const RIGHT_PROBABILITY = 0.95;
/** A wrong answer's number: renormalised, about 0.51, under REVIEW_BELOW's default of 0.7. */
export const WRONG_PROBABILITY = 0.45;

const encoder = new TextEncoder();

function token(text: string, p: number, alternatives: Array<[string, number]> = []): SimulatedLogprob {
  const entry = (t: string, q: number) => ({ token: t, logprob: Math.log(q), bytes: [...encoder.encode(t)] });
  const chosen = entry(text, p);
  return {
    ...chosen,
    top_logprobs: p === 1 ? [] : [chosen, ...alternatives.map(([t, q]) => entry(t, q))],
  };
}

/**
 * The tokens of `content` (`{"1":3,"2":[4,7]}`) with their log-probabilities. `wrong` holds the ids whose
 * labels were made wrong on purpose; `categories` is how many numbers the schema allows.
 */
export function simulatedLogprobs(
  content: string,
  wrong: ReadonlySet<string>,
  categories: number,
): SimulatedLogprob[] {
  const out: SimulatedLogprob[] = [];
  let id = '';
  let previous = '';
  for (const part of content.match(/\d+|\D+/g) ?? []) {
    const isNumber = /^\d/.test(part);
    if (isNumber && previous.endsWith('"')) id = part;
    if (isNumber && /[:[,]$/.test(previous)) {
      const p = wrong.has(id) ? WRONG_PROBABILITY : RIGHT_PROBABILITY;
      const other = String((Number(part) % Math.max(1, categories)) + 1);
      out.push(
        token(part, p, [
          [other === part ? String(categories + 1) : other, (1 - p) * 0.8],
          ['"', (1 - p) * 0.2],
        ]),
      );
    } else out.push(token(part, 1));
    previous = part;
  }
  return out;
}
