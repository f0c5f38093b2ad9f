import type { FaultKind } from './options.js';
import type { ChatRequest, ModelReply, PromptCache, Usage } from './protocol.js';
import { PLAIN_ANSWER, REFUSAL, chatCompletion, tokensOf } from './protocol.js';
import { corruptCoding, cutOff } from './faults.js';
import { expectedLabel } from './labels.js';

export interface ModelOutcome {
  readonly reply: ModelReply;
  /** Labels in the content when it is a complete `{"labels": […]}`. */
  readonly labelsReturned: number;
  /** A coding that passes `validateLabels`: every id once, each category from the enum. */
  readonly validCoding: boolean;
}

/**
 * What the simulated model says: each answer labelled by `expectedLabel`, or plain text when the request has
 * no label schema, then spoiled by the request's output fault if it has one (other faults leave it alone).
 */
export function modelReply(request: ChatRequest, fault: FaultKind | undefined): ModelOutcome {
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
  if (coding) {
    const correct = coding.items.map((item) => ({
      id: item.id,
      category: expectedLabel(item.text, coding.categories),
    }));
    const spoiled = fault === 'missing_id' || fault === 'extra_id' || fault === 'bad_category';
    const labels = spoiled ? corruptCoding(fault, correct, coding.labels) : correct;
    content = JSON.stringify({ labels });
    labelsReturned = labels.length;
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
  return { reply: { content, refusal: null, finishReason: 'stop' }, labelsReturned, validCoding };
}

export interface ChatAnswer extends ModelOutcome {
  /** The `chat.completion` object. */
  readonly body: Record<string, unknown>;
  readonly usage: Usage;
}

/**
 * The one way a chat request becomes a completion, for the synchronous endpoint and Batch API lines alike:
 * the model's reply, usage at four characters a token, and cached tokens when a prompt cache is given.
 */
export function answerChat(
  request: ChatRequest,
  fault: FaultKind | undefined,
  cache: PromptCache | undefined,
): ChatAnswer {
  const outcome = modelReply(request, fault);
  const { reply } = outcome;
  const usage = {
    promptTokens: tokensOf(request.promptChars),
    completionTokens: tokensOf((reply.content ?? reply.refusal ?? '').length),
    cachedTokens: cache?.cachedTokens(request.system) ?? 0,
  };
  return { ...outcome, usage, body: chatCompletion(request.model, reply, usage) };
}
