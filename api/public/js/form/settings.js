// @ts-check
// The optional settings: the server's defaults as placeholders, and what the form sends.

import { getSettings } from '../api.js';
import { $ } from '../dom.js';
import { showMultiDefaults } from './multi.js';

/**
 * The settings' field names: each is an input (or select) id and a form field of `POST /jobs`.
 * @type {readonly string[]}
 */
export const SETTINGS = ['batchSize', 'concurrency', 'parallel', 'model', 'temperature', 'maxCost'];

/**
 * What each setting accepts, in words: shown next to a setting the page or the server refused.
 * @type {Readonly<Record<string, string>>}
 */
export const RULES = {
  batchSize: 'Use a whole number from 1 to 200, or “auto”.',
  concurrency: 'Use a whole number from 1 to 200.',
  temperature: 'Use a number from 0 to 2, such as 0.1.',
  model: 'Use a model name such as gpt-4o-mini.',
  parallel: 'Choose on or off.',
  maxCodes: 'Use a whole number from 1 to 100.',
  maxCost: 'Use a number of dollars above 0, such as 5 or 0.50.',
};

/**
 * Whether a setting's text is one the server takes (empty: the server's default).
 * @type {Readonly<Record<string, (value: string) => boolean>>}
 */
const ACCEPTS = {
  batchSize: (v) => v === 'auto' || (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 200),
  concurrency: (v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 200,
  temperature: (v) => /^\d*\.?\d+$/.test(v) && Number(v) <= 2,
  model: (v) => /^[\w.:/-]{1,100}$/.test(v),
  maxCost: (v) => /^\d*\.?\d+$/.test(v) && Number(v) > 0 && Number(v) <= 1_000_000,
};

/**
 * Every setting the server would refuse, as [field, message], so the form reports them all at once.
 * @returns {Array<[string, string]>}
 */
export function settingProblems() {
  /** @type {Array<[string, string]>} */
  const problems = [];
  for (const name of SETTINGS) {
    const value = settingField(name).value.trim();
    const accepts = ACCEPTS[name];
    if (value && accepts && !accepts(value)) {
      problems.push([name, `“${value}” is not allowed here. ${RULES[name] ?? ''}`.trim()]);
    }
  }
  return problems;
}

/** @param {string} name */
function settingField(name) {
  const field = $(name);
  if (field instanceof HTMLInputElement || field instanceof HTMLSelectElement) return field;
  throw new Error(`#${name}: not an input or a select`);
}

/** The server's defaults as placeholders, so "leave empty" says what it means. */
export async function loadSettings() {
  const settings = await getSettings().catch(() => null);
  if (!settings) return;
  const d = settings.defaults;
  $('batchSize', HTMLInputElement).placeholder = `default: ${d.batchSize}`;
  $('concurrency', HTMLInputElement).placeholder = `default: ${d.concurrency}`;
  $('concurrency', HTMLInputElement).max = String(settings.limits.maxConcurrency);
  // Without an API key the simulator answers whatever model is named: the field says so, not a model's name.
  const simulated = settings.simulated === true;
  $('model', HTMLInputElement).placeholder = simulated ? `simulated (as ${d.model})` : `default: ${d.model}`;
  const modelHint = $('model-hint');
  modelHint.hidden = !simulated;
  modelHint.textContent = simulated
    ? 'Simulated: no OPENAI_API_KEY on the server, so the simulator answers, whatever model is named here.'
    : '';
  $('temperature', HTMLInputElement).placeholder = `default: ${d.temperature}`;
  const serverDefault = $('parallel', HTMLSelectElement).options[0];
  if (serverDefault) serverDefault.textContent = `Server default (${d.parallel ? 'on' : 'off'})`;
  // A dry run is said before any coding starts, not discovered in the workbook afterwards.
  $('dry-run').hidden = !simulated;
  showMultiDefaults(settings);
  $('batchApi', HTMLInputElement).checked = d.batchApi;
}

/**
 * Adds the settings given (the others stay the server's defaults).
 * @param {FormData} body
 */
export function appendSettings(body) {
  for (const name of SETTINGS) {
    const value = settingField(name).value.trim();
    if (value) body.append(name, value);
  }
  // Always sent, so the switch wins over the server's default either way.
  body.append('batchApi', String($('batchApi', HTMLInputElement).checked));
}

/** Editing a setting clears its error. */
export function wireSettings() {
  for (const name of [...SETTINGS, 'batchApi']) {
    $(name).addEventListener('input', () => {
      $(`${name}-error`).hidden = true;
      $(name).removeAttribute('aria-invalid');
    });
  }
}
