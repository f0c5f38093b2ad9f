/** Tokens a request used, as the API reported them. Its own room: job.ts and batch-api.ts both use it. */
export interface TokenUsage {
  readonly prompt: number;
  readonly completion: number;
  readonly cached: number;
}
