// @ts-check
// A job's card in the list: made from the page's template once, then updated section by section.

/** @import { JobProgress, JobStart } from '../types.js' */
/** @import { Tone } from './status.js' */
/** @import { Job } from './store.js' */
import { $, find, span } from '../dom.js';
import { dollars, duration, numbers, when } from '../format.js';
import { renderResult } from './result.js';
import { badgeOf, jobName, percentOf, sourceOf } from './status.js';
import { renderTables } from './tables.js';

/**
 * What every section renders from.
 * @typedef {object} CardView
 * @property {HTMLElement} card
 * @property {Job} job
 * @property {JobProgress | null} p the job's live progress
 * @property {boolean} running
 * @property {[label: string, tone: Tone]} badge
 */

/**
 * jobId → its card.
 * @type {Map<string, HTMLElement>}
 */
const cards = new Map();

/**
 * The card's element id (also the page's link to it).
 * @param {string} jobId
 */
export const cardId = (jobId) => `job-${jobId.replace(/[^\w-]/g, '_')}`;

/**
 * The card's sections, in order. Each updates its own part of the card from the job: a new view of a job
 * (its results, tables) is a new section here and a new part in the page's `#job-template`.
 * @type {ReadonlyArray<(view: CardView) => void>}
 */
const SECTIONS = [
  renderHead,
  renderMeta,
  renderBar,
  renderStats,
  renderResult,
  renderQuality,
  renderCost,
  renderBatchApi,
  renderError,
  renderTables,
  renderActions,
  renderSettings,
];

/**
 * Updates the job's card (made on first use) and returns it.
 * @param {Job} job
 */
export function renderJob(job) {
  const card = cards.get(job.jobId) ?? createCard(job);
  /** @type {CardView} */
  const view = { card, job, p: job.progress, running: job.status === 'RUNNING', badge: badgeOf(job) };
  for (const render of SECTIONS) render(view);
  return card;
}

/**
 * Takes a deleted job's card off the page.
 * @param {string} jobId
 */
export function dropCard(jobId) {
  cards.get(jobId)?.remove();
  cards.delete(jobId);
}

/** @param {Job} job */
function createCard(job) {
  const card = $('job-template', HTMLTemplateElement).content.firstElementChild?.cloneNode(true);
  if (!(card instanceof HTMLElement)) throw new Error('#job-template holds no card');
  card.id = cardId(job.jobId);
  card.dataset.job = job.jobId;
  const title = find(card, '.job-title');
  title.id = `${card.id}-title`;
  card.setAttribute('aria-labelledby', title.id);
  cards.set(job.jobId, card);
  return card;
}

/**
 * The element of the card that `selector` names.
 * @param {HTMLElement} card
 * @param {string} selector
 */
const q = (card, selector) => find(card, selector);

/**
 * Title, badge and the dry-run flag.
 * @param {CardView} view
 */
function renderHead({ card, job, p, running, badge: [label, tone] }) {
  const column = p?.column ?? job.column;
  const title = q(card, '.job-title');
  if (job.name) title.replaceChildren(...breakable(job.name));
  else
    title.replaceChildren(
      ...breakable(job.fileName ?? job.jobId),
      ' ',
      ...(column ? [span('job-column', `· ${column}`)] : []),
    );
  const source = q(card, '.job-source');
  source.hidden = !job.name;
  source.replaceChildren(...(job.name ? breakable(sourceOf(job)) : []));
  const simulated = p?.simulated ?? job.simulated;
  const dry = q(card, '.dry-run');
  dry.hidden = !simulated;
  dry.title = 'No OPENAI_API_KEY on the server: a simulator answered, so these are not real codings.';
  const badge = q(card, '.badge');
  badge.textContent = label;
  badge.dataset.tone = tone;
  card.classList.toggle('fresh', Boolean(job.fresh && running));
}

/**
 * `text` with a line-break opportunity after each `_`, `-` and `.`, so that a long file name wraps between
 * its parts on a phone instead of mid-word (the CSS breaks inside a part only when it alone is too wide).
 * @param {string} text
 * @returns {Array<string | Node>}
 */
function breakable(text) {
  /** @type {Array<string | Node>} */
  const parts = [];
  for (const piece of text.split(/(?<=[_.-])(?=[^_.-])/)) {
    if (parts.length > 0) parts.push(document.createElement('wbr'));
    parts.push(piece);
  }
  return parts;
}

/**
 * When it started, its batches, and the state of its live connection.
 * @param {CardView} view
 */
function renderMeta({ card, job, p, running }) {
  const meta = [];
  if (job.createdAt) meta.push(`Started ${when(job.createdAt)}`);
  if (running && p && p.batches.total > 0) {
    meta.push(
      `${numbers.format(p.batches.done)} of ${numbers.format(p.batches.total)} batches done, ${p.batches.inFlight} in flight`,
    );
  }
  if (running && job.connection && job.connection !== 'live') meta.push(job.connection);
  q(card, '.job-meta').textContent = meta.join(' · ');
}

/** @param {CardView} view */
function renderBar({ card, job, p, running, badge: [, tone] }) {
  const bar = q(card, '.bar');
  const percent = percentOf(job);
  bar.setAttribute('aria-label', `Progress of ${jobName(job)}`);
  bar.dataset.tone = tone === 'run' ? '' : tone;
  bar.classList.toggle('busy', percent === null && running);
  if (percent === null) {
    bar.removeAttribute('aria-valuenow');
    bar.setAttribute('aria-valuetext', running ? 'Preparing' : 'No progress recorded');
    q(card, '.bar-fill').style.width = '0%';
  } else {
    bar.setAttribute('aria-valuenow', String(percent));
    const rows = p?.rows;
    bar.setAttribute(
      'aria-valuetext',
      rows
        ? `${numbers.format(rows.done)} of ${numbers.format(rows.total)} rows (${percent}%)`
        : `${percent}%`,
    );
    q(card, '.bar-fill').style.width = `${percent}%`;
  }
}

/**
 * Rows, rate, time left (or taken), fallbacks and 429s.
 * @param {CardView} view
 */
function renderStats({ card, job, p, running }) {
  /** @param {string} name */
  const stat = (name) => q(card, `[data-stat="${name}"]`);
  const planned = p && p.rows.total > 0;
  stat('rows').textContent = planned
    ? `${numbers.format(p.rows.done)} / ${numbers.format(p.rows.total)}`
    : job.rows != null
      ? numbers.format(job.rows)
      : '–';
  const rate = job.stats?.ratePerMinute ?? p?.ratePerMinute;
  stat('rate').textContent = rate ? `${numbers.format(Math.round(rate))}/min` : '–';
  q(card, '[data-label="eta"]').textContent = running ? 'Time left' : 'Took';
  stat('eta').textContent = !running
    ? job.closedAt && job.createdAt
      ? duration((Date.parse(job.closedAt) - Date.parse(job.createdAt)) / 1000)
      : '–'
    : !planned
      ? '–'
      : p.paused
        ? 'paused'
        : p.etaSeconds === 0
          ? 'almost done'
          : p.etaSeconds !== null
            ? duration(p.etaSeconds)
            : 'estimating…';
  const fallbackRows = job.stats?.fallbackRows ?? p?.rows.fallback;
  // The list alone (no live progress yet) counts batches, from the VerbatimFallbacks search attribute.
  const fallbackBatches = fallbackRows == null ? job.fallbacks : null;
  const fallbacks = stat('fallbacks');
  fallbacks.textContent =
    fallbackRows != null
      ? `${numbers.format(fallbackRows)} rows`
      : fallbackBatches != null
        ? `${numbers.format(fallbackBatches)} batches`
        : '–';
  fallbacks.classList.toggle('warn', (fallbackRows ?? fallbackBatches ?? 0) > 0);
  const reasons = Object.entries(p?.fallbackReasons ?? {});
  fallbacks.title = reasons.length
    ? `Coded “Other” after retries ran out:\n${reasons.map(([why, n]) => `${n} × ${why}`).join('\n')}`
    : '';
  const limited = job.stats?.rateLimited ?? p?.rateLimited;
  stat('limited').textContent = limited == null ? '–' : numbers.format(limited);
  stat('limited').classList.toggle('warn', (limited ?? 0) > 0);
}

/**
 * Agreement with the human-coded column, the line the CLI prints, once the job has it.
 * @param {CardView} view
 */
function renderQuality({ card, job }) {
  const line = q(card, '.job-quality');
  const quality = job.quality;
  line.hidden = !quality;
  if (!quality) return;
  /** @param {number | null} x */
  const two = (x) => (x === null ? '–' : x.toFixed(2));
  const exact = quality.exactAgreement === null ? '–' : `${(quality.exactAgreement * 100).toFixed(1)} %`;
  line.textContent =
    `Agreement with “${quality.goldHeader}” on ${numbers.format(quality.rows)} rows: ${exact}, ` +
    `κ ${two(quality.kappa)}, α ${two(quality.alpha)}, macro F1 ${two(quality.macroF1)}`;
}

/**
 * A Batch API job: the round, each batch's state and request counts, and what is being waited out.
 * @param {CardView} view
 */
function renderBatchApi({ card, p, running }) {
  const line = q(card, '.job-batch-api');
  const api = p?.batchApi;
  line.hidden = !api;
  if (!api) return;
  const batches = api.batches
    .map((b) => `${b.status.replace('_', ' ')} ${numbers.format(b.completed)}/${numbers.format(b.total)}`)
    .join(', ');
  const failed = api.requests.failed > 0 ? `, ${numbers.format(api.requests.failed)} failed` : '';
  line.textContent =
    api.stage === 'submitting'
      ? `Batch API: sending round ${api.round + 1}`
      : api.stage === 'synchronous' || !running
        ? `Batch API: ${numbers.format(api.linesCoded)} of ${numbers.format(api.linesSent)} requests answered in ${api.round} round${api.round === 1 ? '' : 's'}`
        : `Batch API round ${api.round}: ${batches}${failed}`;
  if (api.note && running) line.textContent += ` · ${api.note}`;
}

/**
 * The cost so far and its cap; held at the cap, why the job waits and how to go on.
 * @param {CardView} view
 */
function renderCost({ card, p, running }) {
  const line = q(card, '.job-cost');
  const cost = p?.cost;
  // While preparing the plan (and with it the model's price) is not known: a null total then means
  // "nothing priced yet", not "cost unknown", so the line waits for the plan.
  line.hidden = !cost || (cost.total === null && p?.phase === 'preparing');
  const cap = find(card, '.cap');
  cap.hidden = !running || !cost || cost.total === null;
  const capInput = find(cap, 'input', HTMLInputElement);
  if (cost && document.activeElement !== capInput) capInput.value = cost.maxCost?.toString() ?? '';
  if (!cost) return;
  const capText = cost.maxCost !== null ? ` of a ${dollars(cost.maxCost)} cap` : '';
  line.textContent = `Cost so far: ${dollars(cost.total)}${capText}`;
  line.classList.toggle('warn', running && cost.capReached);
  if (running && cost.capReached) {
    line.textContent +=
      ` · Waiting at the cost cap: the next request may cost up to ${dollars(cost.nextRequest)}. ` +
      'Raise the cap under Details to go on, or cancel to keep what is coded.';
  }
}

/** @param {CardView} view */
function renderError({ card, job }) {
  const error = q(card, '.job-error');
  error.textContent = job.error ?? '';
  error.hidden = !job.error;
}

/** Statuses a job can be resumed or retried from, and what the button says. */
const RETRY_LABELS = /** @type {Partial<Record<string, string>>} */ ({
  CANCELLED: 'Resume',
  FAILED: 'Retry',
  TERMINATED: 'Retry',
  TIMED_OUT: 'Retry',
});

/**
 * Downloads, pause or resume, cancel, resume or retry, run again, delete, the concurrency, the link to the
 * Temporal UI.
 * @param {CardView} view
 */
function renderActions({ card, job, p, running }) {
  const ended = !running && job.status !== 'UNKNOWN';
  const retry = q(card, '.retry');
  const retryLabel = RETRY_LABELS[job.status];
  retry.hidden = !retryLabel;
  retry.textContent = retryLabel ?? 'Retry';
  retry.setAttribute('aria-label', `${retryLabel ?? 'Retry'} ${jobName(job)}`);
  const again = q(card, '.again');
  again.hidden = !ended || !job.column;
  again.setAttribute('aria-label', `Run ${jobName(job)} again with changes`);
  const remove = q(card, '.delete');
  remove.hidden = !ended;
  remove.setAttribute('aria-label', `Delete ${jobName(job)}`);
  const soFar = find(card, '.coded-so-far', HTMLAnchorElement);
  soFar.hidden = !(job.status === 'FAILED' && job.codedSoFar && job.links?.result);
  if (job.links?.result) soFar.href = `${job.links.result}?format=xlsx`;

  const downloadable = job.status === 'COMPLETED' || (job.status === 'CANCELLED' && job.stats);
  for (const link of card.querySelectorAll('.download')) {
    if (!(link instanceof HTMLAnchorElement)) continue;
    link.hidden = !downloadable || !job.links?.result;
    if (job.links?.result) link.href = `${job.links.result}?format=${link.dataset.format}`;
  }
  // A cancelled job resumed to the end has a whole file again.
  q(card, '.download').textContent = job.status === 'CANCELLED' ? 'Download partial .xlsx' : 'Download .xlsx';
  const pause = q(card, '.pause');
  pause.hidden = !running || Boolean(job.cancelling);
  pause.textContent = p?.paused ? 'Resume' : 'Pause';
  pause.setAttribute('aria-label', `${p?.paused ? 'Resume' : 'Pause'} ${jobName(job)}`);
  const cancel = q(card, '.cancel');
  cancel.hidden = !running || Boolean(job.cancelling);
  cancel.setAttribute('aria-label', `Cancel ${jobName(job)}`);
  const limit = q(card, '.limit');
  limit.hidden = !running || Boolean(job.cancelling) || p?.phase !== 'classifying';
  const limitInput = find(limit, 'input', HTMLInputElement);
  limitInput.setAttribute('aria-label', `Requests at once for ${jobName(job)}`);
  if (p && document.activeElement !== limitInput) limitInput.value = String(p.window.max);
  const temporal = find(card, '.temporal', HTMLAnchorElement);
  temporal.hidden = !job.links?.temporal;
  if (job.links?.temporal) temporal.href = job.links.temporal;
  temporal.setAttribute('aria-label', `${jobName(job)} in the Temporal UI (opens a new tab)`);
}

/** How many categories the card names before "and N more". */
const CATEGORIES_SHOWN = 5;

/**
 * What the job was started with, under Details: its categories and settings, in the form's words. Shown once
 * the job's view says (`startedWith`); absent for a job whose files are gone.
 * @param {CardView} view
 */
function renderSettings({ card, job }) {
  const box = q(card, '.job-settings');
  const start = job.startedWith;
  box.hidden = !start;
  if (!start || box.dataset.shown === JSON.stringify(start)) return;
  box.dataset.shown = JSON.stringify(start);
  box.setAttribute('aria-label', `How ${jobName(job)} was started`);
  box.replaceChildren(
    ...settingLines(start).map(([label, value]) => {
      const row = document.createElement('div');
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.append(value);
      row.append(dt, dd);
      return row;
    }),
  );
}

/**
 * The lines of the settings list: [label, value], the labels those of the form's fields.
 * @param {JobStart} start
 * @returns {Array<[string, string | Node]>}
 */
function settingLines(start) {
  /** @type {Array<[string, string | Node]>} */
  const lines = [];
  if (start.sheet) lines.push(['Sheet', start.sheet]);
  lines.push(['Column', start.column]);
  if (start.categories !== undefined) {
    lines.push(['Categories', categoriesOf(categoryNames(start.categories))]);
  }
  lines.push([
    'Categories per answer',
    start.multi ? `several${start.maxCodes !== undefined ? `, at most ${start.maxCodes}` : ''}` : 'one',
  ]);
  lines.push([
    'Answers per request',
    start.batchSize === 'auto' ? 'auto (sized by tokens)' : String(start.batchSize),
  ]);
  lines.push([
    'Requests at once',
    start.parallel ? String(start.concurrency) : '1 (parallel processing off)',
  ]);
  lines.push([
    'Model',
    start.reviewModel ? `${start.model}, unsure answers again by ${start.reviewModel}` : start.model,
  ]);
  lines.push(['Temperature', String(start.temperature)]);
  if (start.by?.length) lines.push(['Tables by', start.by.join('; ')]);
  if (start.goldColumn !== undefined) {
    const examples = start.examplesFromGold
      ? ` (up to ${start.examplesFromGold} per category shown to the model as examples)`
      : '';
    lines.push(['Coded by hand', `${start.goldColumn}${examples}`]);
  }
  lines.push(['Batch API', start.batchApi ? 'on: half price, within 24 hours' : 'off']);
  lines.push(['Cost cap', start.maxCost !== undefined ? dollars(start.maxCost) : 'none']);
  return lines;
}

/**
 * The category names of a codeframe's text as the form takes it: one a line (`Name: description`, a code
 * before it kept), nets (`[Net]`), comments and blank lines left out; or a JSON list of names.
 * @param {string} text
 * @returns {string[]}
 */
function categoryNames(text) {
  if (text.trim().startsWith('[')) {
    try {
      const list = /** @type {unknown} */ (JSON.parse(text));
      if (Array.isArray(list) && list.every((x) => typeof x === 'string'))
        return list.map((x) => String(x).trim());
    } catch {
      // not JSON: a codeframe whose first line is a net
    }
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !/^\[.*\]$/.test(line))
    .map((line) => line.split(/:\s/)[0]?.trim() ?? line);
}

/**
 * The first few names, "and N more", and all of them in a list that opens on demand.
 * @param {readonly string[]} names
 * @returns {string | Node}
 */
function categoriesOf(names) {
  if (names.length <= CATEGORIES_SHOWN) return names.join(', ') || 'none kept';
  const shown = `${names.slice(0, CATEGORIES_SHOWN).join(', ')} and ${names.length - CATEGORIES_SHOWN} more`;
  const all = document.createElement('details');
  const summary = document.createElement('summary');
  summary.textContent = shown;
  const list = document.createElement('ol');
  for (const name of names) {
    const item = document.createElement('li');
    item.textContent = name;
    list.append(item);
  }
  all.append(summary, list);
  return all;
}
