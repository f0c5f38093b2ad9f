// @ts-check
// Estimate: what the job the form describes would cost, before it starts (POST /jobs/estimate).

import { estimateJob } from '../api.js';
import { $ } from '../dom.js';
import { dollars, numbers } from '../format.js';
import { showProblem } from './field-errors.js';
import { jobForm } from './start.js';

async function estimate() {
  const result = $('estimate-result');
  const form = jobForm();
  if (!form) {
    result.hidden = true;
    return;
  }
  const button = $('estimate', HTMLButtonElement);
  button.disabled = true;
  result.hidden = false;
  result.textContent = `Estimating ${form.column} of ${form.fileName}…`;
  try {
    const e = await estimateJob(form.body);
    const cost =
      e.cost.sync === null
        ? `cost unknown: ${e.model} has no price on this server (OPENAI_PRICE_INPUT, OPENAI_PRICE_OUTPUT)`
        : `${dollars(e.cost.sync)} (${dollars(e.cost.batch)} with the Batch API)`;
    result.textContent =
      `Estimate: ${numbers.format(e.requests)} requests for ${numbers.format(e.answers)} unique answers, ` +
      `${numbers.format(e.inputTokens)} input and ${numbers.format(e.outputTokens)} output tokens, ${cost}.`;
  } catch (error) {
    result.hidden = true;
    showProblem(error, 'form');
  } finally {
    button.disabled = false;
  }
}

export function wireEstimate() {
  $('estimate').addEventListener('click', () => void estimate());
}
