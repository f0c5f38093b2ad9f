/**
 * Token counts for estimates made before a request is sent (auto batch size, the TPM budget), with the
 * model's own tokenizer. Encodings load lazily: ~200 ms once per process and encoding.
 */
export type TokenCounter = (text: string) => number;

type Encoding = 'o200k_base' | 'cl100k_base';

const loaded = new Map<Encoding, Promise<TokenCounter>>();

export function encodingForModel(model: string): Encoding {
  // Fine-tuned models (`ft:gpt-3.5-turbo:org::id`) count as their base model.
  const m = model.toLowerCase().replace(/^ft:/, '');
  if (/^(gpt-4(?!o|\.)|gpt-3\.5|text-embedding-3|text-embedding-ada)/.test(m)) return 'cl100k_base';
  return 'o200k_base'; // gpt-4o, gpt-4.1, gpt-5, o-series, and unknown models (most recent default)
}

export function tokenCounter(model: string): Promise<TokenCounter> {
  const encoding = encodingForModel(model);
  let counter = loaded.get(encoding);
  if (!counter) {
    counter = (
      encoding === 'cl100k_base'
        ? import('gpt-tokenizer/encoding/cl100k_base')
        : import('gpt-tokenizer/encoding/o200k_base')
    ).then((m) => boundedCounter((text) => m.countTokens(text)));
    loaded.set(encoding, counter);
  }
  return counter;
}

/** Runs of spaces, or of anything but spaces, this long are counted in slices of `SLICE` characters. */
const LONG_RUN = /\S{1024,}|\s{1024,}/;
const LONG_RUNS = new RegExp(LONG_RUN.source, 'g');
const SLICE = 256;

/**
 * The tokenizer's byte-pair merging is quadratic in the length of one pre-token, and a pre-token is a run
 * of letters, of CJK text, of symbols or of spaces. Counting a 32,767-character cell (Excel's longest) took
 * 1.9 s for one repeated letter or U+FFFD (what lone surrogates become), 2 s for spaces, 11 s for Chinese
 * without punctuation: per cell, for every count of every batch. Long runs are counted in slices instead:
 * linear, exact for text without such runs, and otherwise at most about a token per slice over (a cut can
 * split a token), which errs on the safe side of a budget.
 */
export function boundedCounter(count: TokenCounter): TokenCounter {
  return (text) => {
    if (!LONG_RUN.test(text)) return count(text);
    let total = 0;
    let start = 0;
    for (const run of text.matchAll(LONG_RUNS)) {
      total += count(text.slice(start, run.index));
      for (let i = 0; i < run[0].length; i += SLICE) total += count(run[0].slice(i, i + SLICE));
      start = run.index + run[0].length;
    }
    return total + count(text.slice(start));
  };
}

/** Per-message framing of the chat format (role and separators), as OpenAI counts it. */
const MESSAGE_OVERHEAD = 4;

/**
 * What a request costs against a tokens-per-minute budget when it arrives: the prompt, counted by the
 * tokenizer but never below OpenAI's own ~4 characters per token, plus the output ceiling it asks for.
 */
export function estimateRequestTokens(
  count: TokenCounter,
  messages: ReadonlyArray<{ content: string }>,
  maxCompletionTokens: number,
): number {
  let prompt = 3;
  for (const m of messages) prompt += count(m.content) + MESSAGE_OVERHEAD;
  return Math.max(prompt + maxCompletionTokens, arrivalCharge(messages, maxCompletionTokens));
}

/**
 * What OpenAI's limiter takes from the TPM budget when the request arrives, before any token is counted:
 * about 4 characters per prompt token, plus the output ceiling.
 */
export function arrivalCharge(
  messages: ReadonlyArray<{ content: string }>,
  maxCompletionTokens: number,
): number {
  let chars = 0;
  for (const m of messages) chars += m.content.length;
  return Math.ceil(chars / 4) + maxCompletionTokens;
}
