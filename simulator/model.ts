import type { FaultKind } from './options.js';
import type { ChatRequest, ModelReply, PromptCache, Usage } from './protocol.js';
import { PLAIN_ANSWER, REFUSAL, chatCompletion, tokensOf } from './protocol.js';
import { corruptCoding, corruptLists, cutOff } from './faults.js';
import { expectedLabels, isWrongAnswer, wrongLabels } from './labels.js';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { billedPromptTokens } from '../domain/cost.js';
import { encodeLabels } from '../domain/prompt.js';
import { simulatedLogprobs } from './logprobs.js';
import { encodeOriginal } from './original-layout.js';
import type { FaultRule } from './options.js';

/** How the simulated model behaves beyond faults: the knobs of `SimulatorOptions` it reads. */
export interface ModelBehaviour {
  readonly wrongRate?: number | undefined;
  /** How usage counts tokens (see `SimulatorOptions.usage`). */
  readonly usage?: 'chars' | 'tokenizer' | undefined;
  /** A model's own wrong share, in place of `wrongRate` (a stronger review model, say). */
  readonly modelWrongRates?: Readonly<Record<string, number>> | undefined;
}

export interface ModelOutcome {
  readonly reply: ModelReply;
  /** Labels in the content when it is a complete coding (one per id given). */
  readonly labelsReturned: number;
  /** A coding that passes `validateLabels`: every id once, each category from the enum. */
  readonly validCoding: boolean;
}

/**
 * What the simulated model says: each answer labelled by `expectedLabels` (one label, or in a multi-code
 * request every category it mentions), or plain text when the request has no label schema, then spoiled
 * by the request's output fault if it has one (other faults leave it alone). The content is encoded by the
 * wire module verbatim decodes with.
 */
export function modelReply(
  request: ChatRequest,
  fault: FaultKind | undefined,
  rule?: Pick<FaultRule, 'match'>,
  behaviour: ModelBehaviour = {},
): ModelOutcome {
  if (fault === 'refusal') {
    return {
      reply: { content: null, refusal: REFUSAL, finishReason: 'stop' },
      labelsReturned: 0,
      validCoding: false,
    };
  }
  const { coding } = request;
  let content = PLAIN_ANSWER;
  let labelsReturned = 0;
  let validCoding = false;
  const wrong = new Set<string>();
  if (coding) {
    const wrongRate = behaviour.modelWrongRates?.[request.model] ?? behaviour.wrongRate ?? 0;
    // "Correct" is what this model means to say: the rule's labels, or on purpose wrong ones (wrongRate).
    const correct = coding.items.map((item) => {
      const right = expectedLabels(item.text, coding.categories, coding.mode);
      if (isWrongAnswer(item.text, wrongRate)) wrong.add(item.id);
      return {
        id: item.id,
        labels: wrong.has(item.id) ? wrongLabels(right, coding.labels, coding.mode) : right,
      };
    });
    const texts = new Map(coding.items.map((item) => [item.id, item.text]));
    const spoiled = fault === 'missing_id' || fault === 'extra_id' || fault === 'bad_category';
    const needle = rule?.match?.toLowerCase();
    const matching =
      needle === undefined ? undefined : (id: string) => (texts.get(id) ?? '').toLowerCase().includes(needle);
    let labels = spoiled ? corruptCoding(fault, correct, coding.labels, matching) : correct;
    if (fault === 'too_many_codes' || fault === 'duplicate_codes' || fault === 'empty_codes') {
      labels = corruptLists(fault, correct, texts, coding.labels, rule?.match);
    }
    content =
      request.layout === 'original'
        ? encodeOriginal(labels)
        : encodeLabels(labels, coding.labels, coding.mode);
    labelsReturned = labels.length;
    // Lists too long, doubled or empty are still a valid coding: verbatim's rules settle them.
    validCoding = !spoiled;
  }
  if (fault === 'malformed_json' || fault === 'truncated') {
    return {
      reply: {
        content: cutOff(content),
        refusal: null,
        finishReason: fault === 'truncated' ? 'length' : 'stop',
      },
      labelsReturned: 0,
      validCoding: false,
    };
  }
  const logprobs =
    request.logprobs && coding && request.layout !== 'original'
      ? { logprobs: simulatedLogprobs(content, wrong, coding.labels.length) }
      : {};
  return {
    reply: { content, refusal: null, finishReason: 'stop', ...logprobs },
    labelsReturned,
    validCoding,
  };
}

export interface ChatAnswer extends ModelOutcome {
  /** The `chat.completion` object. */
  readonly body: Record<string, unknown>;
  readonly usage: Usage;
}

/**
 * The one way a chat request becomes a completion, for the synchronous endpoint and Batch API lines alike:
 * the model's reply (the coding rule's, unless another model's `outcome` is given), usage at four characters
 * a token, and cached tokens when a prompt cache is given.
 */
export function answerChat(
  request: ChatRequest,
  fault: FaultKind | undefined,
  cache: PromptCache | undefined,
  rule?: Pick<FaultRule, 'match'>,
  behaviour: ModelBehaviour = {},
  outcome: ModelOutcome = modelReply(request, fault, rule, behaviour),
): ChatAnswer {
  const { reply } = outcome;
  const answer = reply.content ?? reply.refusal ?? '';
  const billed = behaviour.usage === 'tokenizer';
  const promptTokens = billed
    ? billedPromptTokens(
        countTokens,
        request.messages.map((content) => ({ content })),
        request.schema === '' ? undefined : (JSON.parse(request.schema) as unknown),
      )
    : tokensOf(request.promptChars);
  const usage = {
    promptTokens,
    completionTokens: billed ? countTokens(answer) : tokensOf(answer.length),
    cachedTokens: Math.min(promptTokens, cache?.cachedTokens(request) ?? 0),
  };
  return { ...outcome, usage, body: chatCompletion(request.model, reply, usage) };
}
