/**
 * What the models cost, in US dollars per million tokens, as OpenAI published them. Prices change: this is
 * the one table, dated, and OPENAI_PRICE_INPUT / OPENAI_PRICE_OUTPUT override it (for another model, another
 * server, or a newer price). A model that is neither here nor priced by the operator has no cost: verbatim
 * says "cost unknown" rather than guessing.
 */

/** When the table below was read off OpenAI's pricing page. */
export const PRICES_AS_OF = '2026-08';

/** USD per million tokens. */
export interface ModelPrice {
  readonly input: number;
  /** Input tokens served from the prompt cache. */
  readonly cachedInput: number;
  readonly output: number;
  /** Batch API: half of each synchronous price. */
  readonly batchInput: number;
  /** Cached input in the Batch API: listed for the gpt-5 family only; the others pay the batch input price. */
  readonly batchCachedInput: number;
  readonly batchOutput: number;
  /** Where the figures come from: the built-in table (with its date) or the operator's settings. */
  readonly source: string;
}

interface ListedPrice {
  readonly input: number;
  readonly cachedInput: number;
  readonly output: number;
  readonly batchCachedInput?: number;
}

const TABLE: Readonly<Record<string, ListedPrice>> = {
  'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6 },
  'gpt-4.1': { input: 2.0, cachedInput: 0.5, output: 8.0 },
  'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, cachedInput: 0.025, output: 0.4 },
  'gpt-5-mini': { input: 0.25, cachedInput: 0.025, output: 2.0, batchCachedInput: 0.0125 },
  'gpt-5-nano': { input: 0.05, cachedInput: 0.005, output: 0.4, batchCachedInput: 0.0025 },
};

/** The operator's prices (OPENAI_PRICE_INPUT, OPENAI_PRICE_OUTPUT), per million tokens. */
export interface PriceOverride {
  readonly input?: number;
  readonly output?: number;
}

/**
 * The price of `model`: the operator's figures where given, else the table's for the model or the dated
 * snapshot it names (`gpt-4o-mini-2024-07-18` is priced as `gpt-4o-mini`). Undefined when neither knows
 * both the input and the output price.
 */
export function priceFor(model: string, override: PriceOverride = {}): ModelPrice | undefined {
  const listed = listedPrice(model);
  const input = override.input ?? listed?.input;
  const output = override.output ?? listed?.output;
  if (input === undefined || output === undefined) return undefined;
  const overridden = override.input !== undefined || override.output !== undefined;
  // An operator's input price says nothing about a cache discount: charge cached tokens as input then.
  const cachedInput = override.input !== undefined ? input : (listed?.cachedInput ?? input);
  return {
    input,
    cachedInput,
    output,
    batchInput: input / 2,
    batchCachedInput:
      override.input === undefined && listed?.batchCachedInput !== undefined
        ? listed.batchCachedInput
        : input / 2,
    batchOutput: output / 2,
    source: overridden
      ? 'OPENAI_PRICE_INPUT / OPENAI_PRICE_OUTPUT'
      : `OpenAI's price list of ${PRICES_AS_OF}`,
  };
}

function listedPrice(model: string): ListedPrice | undefined {
  const name = model.trim().toLowerCase();
  const exact = TABLE[name];
  if (exact) return exact;
  // A dated snapshot: the longest listed name it starts with, followed by a date.
  const base = Object.keys(TABLE)
    .filter((key) => name.startsWith(`${key}-`) && /^\d{4}-\d{2}-\d{2}$/.test(name.slice(key.length + 1)))
    .sort((a, b) => b.length - a.length)[0];
  return base ? TABLE[base] : undefined;
}

/** Tokens as the API reports them; `cached` is the part of `prompt` served from the cache. */
export interface TokenCounts {
  readonly prompt: number;
  readonly cached: number;
  readonly completion: number;
}

/** Dollars, split as the Run sheet shows them. */
export interface Cost {
  readonly input: number;
  readonly cached: number;
  readonly output: number;
  readonly total: number;
}

export const ZERO_COST: Cost = { input: 0, cached: 0, output: 0, total: 0 };

/** What `tokens` cost at `price`, sent synchronously or through the Batch API. */
export function costOf(tokens: TokenCounts, price: ModelPrice, mode: 'sync' | 'batch'): Cost {
  const perToken = (perMillion: number) => perMillion / 1_000_000;
  const cachedTokens = Math.min(tokens.cached, tokens.prompt);
  const batch = mode === 'batch';
  const input = (tokens.prompt - cachedTokens) * perToken(batch ? price.batchInput : price.input);
  const cached = cachedTokens * perToken(batch ? price.batchCachedInput : price.cachedInput);
  const output = tokens.completion * perToken(batch ? price.batchOutput : price.output);
  return { input, cached, output, total: input + cached + output };
}

export function addCost(a: Cost, b: Cost): Cost {
  return {
    input: a.input + b.input,
    cached: a.cached + b.cached,
    output: a.output + b.output,
    total: a.total + b.total,
  };
}

/** `$0.0123`, `$1.24`, `$1,234.50`: small sums keep enough digits to be told apart. */
export function formatDollars(amount: number): string {
  const digits = amount !== 0 && Math.abs(amount) < 0.1 ? 4 : 2;
  return `$${amount.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}
