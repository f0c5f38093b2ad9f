/** What the worker's workflow bundle points at. */
export { classifyJobWorkflow } from './classify-job.js';
export { budgetWorkflow } from './budget.js';
export { buildCodeframeWorkflow } from './build-codeframe.js';
