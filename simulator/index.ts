/**
 * An OpenAI-compatible HTTP server for tests, benchmarks and the no-key demo: chat completions answered by
 * a deterministic rule (`expectedLabel`), with OpenAI's rate limits, headers, errors, latency and faults; and
 * OpenAI's Batch API (files, batches, their lifecycle) answering each line the same way.
 */
export { startSimulator } from './server.js';
export type { Simulator } from './server.js';
export { expectedLabel } from './labels.js';
export { BATCH_FAULT_KINDS, FAULT_KINDS, InvalidSimulatorOptionsError } from './options.js';
export type {
  BatchFaultKind,
  BatchFaultRule,
  BatchOptions,
  FaultKind,
  FaultRule,
  SimulatorOptions,
  ThemeOptions,
} from './options.js';
export type { BatchApiStats, SimulatorStats } from './stats.js';
