/** What can be wrong with the model's answer to a batch: the wire module and the validation report these. */
export type ModelOutputProblem =
  | 'refusal'
  | 'truncated'
  | 'malformed_json'
  | 'missing_ids'
  | 'extra_ids'
  | 'duplicate_ids'
  | 'unknown_category';

/** The model answered, but not with a usable coding of the batch. Retryable: a new attempt usually succeeds. */
export class ModelOutputError extends Error {
  constructor(
    readonly problem: ModelOutputProblem,
    message: string,
  ) {
    super(message);
    this.name = 'ModelOutputError';
  }
}
