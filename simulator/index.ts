/**
 * An OpenAI-compatible HTTP server for tests, benchmarks and the no-key demo: chat completions answered by
 * a deterministic rule (`expectedLabel`), with OpenAI's rate limits, headers, errors, latency and faults.
 */
export { startSimulator } from './server.js';
export type { Simulator } from './server.js';
export { expectedLabel } from './labels.js';
export { FAULT_KINDS, InvalidSimulatorOptionsError } from './options.js';
export type { FaultKind, FaultRule, SimulatorOptions } from './options.js';
export type { SimulatorStats } from './stats.js';
