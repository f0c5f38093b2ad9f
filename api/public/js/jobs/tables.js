// @ts-check
// Tables by segment on a finished job's card: its codes and nets by a banner column's values, computed by
// the server from the job's stored output (GET /jobs/:id/tables). Loaded when the person opens them.

/** @import { JobTables } from '../types.js' */
/** @import { CardView } from './card.js' */
import { ApiError, getTables } from '../api.js';
import { $, find } from '../dom.js';
import { numbers } from '../format.js';
import { jobs } from './store.js';

const MARKS = { higher: '▲', lower: '▼' };
const MARK_WORDS = { higher: 'significantly higher than the other columns', lower: 'significantly lower' };

/**
 * Shown once the job has an output to table: completed, or cancelled with rows coded.
 * @param {CardView} view
 */
export function renderTables({ card, job }) {
  const ended = job.status === 'COMPLETED' || (job.status === 'CANCELLED' && Boolean(job.stats));
  find(card, '.job-tables').hidden = !ended;
}

/**
 * The card's tables section and its job, for an event inside it.
 * @param {Event} event
 */
function sectionOf(event) {
  const section = event.target instanceof Element ? event.target.closest('.job-tables') : null;
  const card = section?.closest('.job');
  if (!(section instanceof HTMLElement) || !(card instanceof HTMLElement)) return undefined;
  return { section, jobId: card.dataset.job ?? '' };
}

/**
 * Fetches and shows the tables (by `by`, else the job's own banners).
 * @param {HTMLElement} section
 * @param {string} jobId
 * @param {string[]} by
 */
async function show(section, jobId, by) {
  const status = find(section, '.tables-status');
  const error = find(section, '.tables-error');
  error.hidden = true;
  status.textContent = 'Counting…';
  try {
    const result = await getTables(jobId, by);
    const out = find(section, '.tables-out');
    if (by.length === 0) out.replaceChildren(...result.tables.map((t) => tableBlock(result, t)));
    // A banner asked for again replaces its table; a new one goes on top.
    else
      for (const t of result.tables) {
        out.querySelector(`[data-banner="${CSS.escape(t.banner)}"]`)?.remove();
        out.prepend(tableBlock(result, t));
      }
    status.textContent =
      result.tables.length === 0
        ? 'No banners were picked for this job: name a column above.'
        : `${result.tables.length === 1 ? 'Table' : 'Tables'} by ${result.tables.map((t) => t.header).join(', ')}.`;
  } catch (e) {
    status.textContent = '';
    error.textContent = e instanceof ApiError ? e.message : String(e);
    error.hidden = false;
  }
}

/**
 * One banner's table in a box that scrolls sideways on a narrow screen, its notes under it.
 * @param {JobTables} result
 * @param {JobTables['tables'][number]} t
 */
function tableBlock(result, t) {
  const block = document.createElement('div');
  block.className = 'crosstab-block';
  block.dataset.banner = t.banner;
  const title = `${result.header} by ${t.header}${t.groups ? ` (${t.groups})` : ''}`;
  if (!t.table) {
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = `${title}: ${t.refused ?? 'no table'}`;
    block.append(p);
    return block;
  }
  const wrap = document.createElement('div');
  wrap.className = 'table-wrap';
  wrap.tabIndex = 0;
  wrap.setAttribute('role', 'region');
  wrap.setAttribute('aria-label', title);
  const table = document.createElement('table');
  table.className = 'crosstab';
  const caption = document.createElement('caption');
  caption.textContent = title;
  const head = document.createElement('tr');
  head.append(th('col', 'Code'));
  for (const c of t.table.columns) {
    const cell = th('col', c.label);
    cell.append(document.createElement('br'), small(`n = ${numbers.format(c.base)}`));
    if (c.total) cell.classList.add('total');
    head.append(cell);
  }
  const thead = document.createElement('thead');
  thead.append(head);
  const tbody = document.createElement('tbody');
  for (const line of t.table.lines) {
    const tr = document.createElement('tr');
    if (line.kind === 'net') tr.className = 'net';
    tr.append(th('row', line.kind === 'net' ? `NET ${line.label}` : line.label));
    line.cells.forEach((cell, j) => {
      const td = document.createElement('td');
      if (t.table?.columns[j]?.total) td.classList.add('total');
      td.append(cell.percent === null ? '–' : `${(cell.percent * 100).toFixed(0)} %`);
      if (cell.mark) {
        const mark = small(MARKS[cell.mark], `mark ${cell.mark}`);
        mark.title = `${MARK_WORDS[cell.mark]} (p = ${cell.p?.toFixed(3)})`;
        mark.setAttribute('aria-label', MARK_WORDS[cell.mark]);
        td.append(' ', mark);
      }
      td.append(document.createElement('br'), small(numbers.format(cell.count)));
      tr.append(td);
    });
    tbody.append(tr);
  }
  table.append(caption, thead, tbody);
  wrap.append(table);
  const notes = document.createElement('ul');
  notes.className = 'hint crosstab-notes';
  notes.append(
    ...t.notes.map((n) => {
      const li = document.createElement('li');
      li.textContent = n;
      return li;
    }),
  );
  block.append(wrap, notes);
  return block;
}

/**
 * @param {'col' | 'row'} scope
 * @param {string} text
 */
function th(scope, text) {
  const cell = document.createElement('th');
  cell.scope = scope;
  cell.textContent = text;
  return cell;
}

/**
 * @param {string} text
 * @param {string} [className]
 */
function small(text, className = 'count') {
  const el = document.createElement('span');
  el.className = className;
  el.textContent = text;
  return el;
}

/** Opening the section shows the job's own tables; its form adds one by another column. */
export function wireTables() {
  const list = $('jobs');
  list.addEventListener(
    'toggle',
    (event) => {
      const found = sectionOf(event);
      if (!found || !(found.section instanceof HTMLDetailsElement) || !found.section.open) return;
      if (found.section.dataset.loaded || !jobs.has(found.jobId)) return;
      found.section.dataset.loaded = 'true';
      void show(found.section, found.jobId, []);
    },
    true, // toggle does not bubble
  );
  list.addEventListener('submit', (event) => {
    const found = sectionOf(event);
    if (!found) return;
    event.preventDefault();
    const input = find(found.section, 'input[name="by"]', HTMLInputElement);
    const by = input.value.trim();
    if (by === '') {
      input.focus();
      return;
    }
    void show(found.section, found.jobId, [by]);
  });
}
