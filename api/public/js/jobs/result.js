// @ts-check
// An ended job's result on its card (`GET /jobs/:id/summary`): the base, each category and net with its
// count, share, a bar and example answers, SIMULATED and PARTIAL stamped. Its own part of the card
// (`.job-result`): other views of the result go below it.

/** @import { JobResultSummary, ResultCategory } from '../types.js' */
/** @import { CardView } from './card.js' */
/** @import { Job } from './store.js' */
import { getJobSummary } from '../api.js';
import { find, span } from '../dom.js';
import { numbers } from '../format.js';

/** Statuses whose job may have written a result (a failed job writes the rows it coded). */
const ENDED = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);

/**
 * "12.5 %": a share of the base, as the card writes it.
 * @param {number} share 0–1
 */
export const percentText = (share) => `${(share * 100).toFixed(1)} %`;

/**
 * Asks for the summary of an ended job once (again after a retry); `render` redraws the card.
 * @param {Job} job
 * @param {(job: Job) => void} render
 */
export async function loadSummary(job, render) {
  if (!ENDED.has(job.status) || job.summary !== undefined) return;
  job.summary = null;
  try {
    job.summary = await getJobSummary(job.jobId);
  } catch {
    // 409: it ended without a result (nothing coded). The downloads say the rest.
  }
  render(job);
}

/**
 * The card's result section, drawn when the summary arrives (and kept as it is until it changes).
 * @param {CardView} view
 */
export function renderResult({ card, job }) {
  const section = find(card, '.job-result');
  const summary = ENDED.has(job.status) ? job.summary : null;
  section.hidden = !summary;
  if (!summary || drawn.get(section) === summary) return;
  drawn.set(section, summary);
  const title = find(section, '.result-title');
  title.id = `${card.id}-result`;
  section.setAttribute('aria-labelledby', title.id);
  find(section, '.result-stamps').replaceChildren(
    ...(summary.simulated
      ? [stamp('SIMULATED', 'The simulator answered, not a model: not real codings.')]
      : []),
    ...(summary.partial ? [stamp('PARTIAL', `The job ${summary.ended} before every row was coded.`)] : []),
  );
  const notice = find(section, '.result-notice');
  const partial = summary.notices.find((n) => n.startsWith('PARTIAL'));
  notice.hidden = !partial;
  notice.textContent = partial ? partial.replace(/^PARTIAL RESULT: t/, 'T') : '';
  find(section, '.result-base').textContent = baseText(summary);
  const list = find(section, '.result-list');
  list.replaceChildren(...summary.categories.map((c) => categoryItem(c)));
}

/**
 * Each section's summary as drawn: the card is redrawn on every progress event, the result only when new.
 * @type {WeakMap<HTMLElement, JobResultSummary>}
 */
const drawn = new WeakMap();

/**
 * @param {string} text
 * @param {string} title
 */
function stamp(text, title) {
  const el = span('stamp', text);
  el.title = title;
  return el;
}

/**
 * Which rows the percentages are of, and the rows kept apart from the categories.
 * @param {JobResultSummary} s
 */
function baseText(s) {
  const r = s.rows;
  const apart = [
    [r.invalid, 'invalid answers (coded Other in the file)'],
    [r.fallback, 'answers whose retries ran out (coded Other in the file)'],
    [r.empty, 'empty rows'],
    [r.notReached, 'rows not coded'],
  ]
    .filter(([n]) => Number(n) > 0)
    .map(([n, what]) => `${numbers.format(Number(n))} ${what}`);
  const of = s.multi ? ' (one may have several categories, so they add up to more than 100 %)' : '';
  return (
    `Base: ${numbers.format(s.base.respondents)} respondents coded; the % are of them${of}.` +
    (apart.length > 0 ? ` Not counted: ${apart.join(', ')}.` : '')
  );
}

/** @param {ResultCategory} c */
function categoryItem(c) {
  const item = document.createElement('li');
  item.className = 'result-item';
  item.dataset.kind = c.kind;
  if (c.net) item.classList.add('in-net');
  const line = document.createElement('div');
  line.className = 'result-line';
  const name =
    c.kind === 'net'
      ? `NET ${c.label}`
      : c.kind === 'unknown'
        ? `${c.label} (not in the codeframe)`
        : c.label;
  const label = span('result-label', name);
  if (c.code !== null) label.prepend(span('result-code', String(c.code)), ' ');
  const count = span('result-count', numbers.format(c.respondents));
  count.append(span('visually-hidden', c.respondents === 1 ? ' respondent,' : ' respondents,'));
  line.append(label, count, span('result-share', percentText(c.share)));
  // The figures are in the text: the bar only draws them.
  const bar = document.createElement('div');
  bar.className = 'result-bar';
  bar.setAttribute('aria-hidden', 'true');
  const fill = document.createElement('div');
  fill.style.width = `${Math.min(100, c.share * 100)}%`;
  bar.append(fill);
  item.append(line, bar);
  if (c.examples.length > 0) {
    const examples = document.createElement('ul');
    examples.className = 'result-examples';
    examples.setAttribute('aria-label', `Example answers for ${c.label}`);
    for (const text of c.examples) {
      const li = document.createElement('li');
      li.textContent = text;
      examples.append(li);
    }
    item.append(examples);
  }
  return item;
}
