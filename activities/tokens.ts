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
    ).then((m) => (text: string) => m.countTokens(text));
    loaded.set(encoding, counter);
  }
  return counter;
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
