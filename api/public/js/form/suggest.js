// @ts-check
// Step 3's "Suggest categories": drafts the codeframe from the chosen column's answers (POST /codeframes),
// follows the draft, then fills the categories box with the drafted file (nets as `[Net]` lines) for the
// person to edit before Start, and shows each code's estimated share with an example answer.

/** @import { CodeframeProgress, CodeframeReport } from '../types.js' */
import { cancelCodeframe, codeframeText, createCodeframe, download, getCodeframe } from '../api.js';
import { $, announce, saveBlob } from '../dom.js';
import { numbers } from '../format.js';
import { updateCategoryCount } from './categories.js';
import { columnValue } from './columns.js';
import { appendSource, draft, sourceName } from './draft.js';
import { clearErrors, showProblem } from './field-errors.js';
import { SETTINGS } from './settings.js';

/** How often a running draft is asked how far it is. */
const POLL_MS = 1_000;
/** Settings of the form that apply to a draft too (answers per request and parallel do not). */
const DRAFT_SETTINGS = SETTINGS.filter((name) => ['concurrency', 'model', 'temperature'].includes(name));
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });

/** The draft being made (its id is empty while the upload is on its way). @type {{ id: string } | null} */
let running = null;
/** The last draft shown, for its downloads. @type {{ id: string; name: string } | null} */
let shown = null;

/** Suggesting needs a file and its answer column, and one draft at a time. */
export function updateSuggestButton() {
  $('suggest', HTMLButtonElement).disabled =
    running !== null || !sourceName() || !draft.preview || draft.column < 0;
}

/** @param {CodeframeProgress | null} p */
function progressText(p) {
  if (!p) return 'Starting…';
  switch (p.phase) {
    case 'reading':
      return 'Reading the answers…';
    case 'extracting':
      return `Reading themes: ${numbers.format(p.chunks.done)} of ${numbers.format(p.chunks.total)} chunks of answers, ${numbers.format(p.themes)} themes so far…`;
    case 'merging':
      return `Merging ${numbers.format(p.themes)} themes that mean the same (round ${p.merge.round || 1})…`;
    case 'describing':
      return 'Describing the categories…';
    case 'measuring':
      return `Measuring each category's share: ${numbers.format(p.measure.done)} of ${numbers.format(p.measure.batches)} batches…`;
    case 'writing':
      return 'Writing the draft…';
    default:
      return 'Finishing…';
  }
}

async function suggest() {
  const { preview } = draft;
  const fileName = sourceName();
  if (!fileName || !preview || draft.column < 0) return;
  const categories = $('categories', HTMLTextAreaElement);
  clearErrors();
  $('suggest-error').hidden = true;
  const body = new FormData();
  appendSource(body);
  body.append('sheet', preview.sheet);
  body.append('column', columnValue(preview, draft.column));
  for (const name of DRAFT_SETTINGS) {
    const field = $(name);
    const value =
      field instanceof HTMLInputElement || field instanceof HTMLSelectElement ? field.value.trim() : '';
    if (value) body.append(name, value);
  }
  const status = $('suggest-status');
  status.textContent = `${body.has('file') ? 'Uploading' : 'Reading'} ${fileName}…`;
  running = { id: '' };
  updateSuggestButton();
  try {
    const started = await createCodeframe(body);
    const mine = (running = { id: started.codeframeId });
    $('suggest-cancel').hidden = false;
    for (;;) {
      const view = await getCodeframe(mine.id);
      if (view.status !== 'RUNNING') {
        if (view.status === 'COMPLETED' && view.codeframe) {
          const text = await codeframeText(mine.id);
          const replace =
            categories.value.trim() === '' ||
            window.confirm('Replace the categories in the box with the suggested ones?');
          if (replace) {
            categories.value = text;
            categories.removeAttribute('aria-invalid');
            updateCategoryCount();
          }
          shown = { id: mine.id, name: fileName.replace(/\.[^.]+$/, '') };
          renderDraft(view.codeframe);
          status.textContent = replace
            ? `Suggested ${view.codeframe.codes.length} categories: edit them in the box, then start.`
            : `Suggested ${view.codeframe.codes.length} categories (the box was kept: download them below).`;
          announce(status.textContent);
          if (replace) categories.focus();
        } else if (view.status === 'CANCELLED') {
          status.textContent = 'Stopped: no categories were suggested.';
        } else {
          status.textContent = '';
          showSuggestError(`The suggestion failed: ${view.error ?? view.status.toLowerCase()}.`);
        }
        return;
      }
      status.textContent = progressText(view.progress);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } catch (error) {
    status.textContent = '';
    showProblem(error, 'categories');
  } finally {
    running = null;
    $('suggest-cancel').hidden = true;
    updateSuggestButton();
  }
}

/** @param {string} message */
function showSuggestError(message) {
  const box = $('suggest-error');
  box.textContent = message;
  box.hidden = false;
}

/**
 * The table of the draft: each net as a heading row over its codes, then Other; label, share, an example.
 * @param {CodeframeReport} cf
 */
function renderDraft(cf) {
  const table = $('suggested-table', HTMLTableElement);
  const head = document.createElement('thead');
  head.append(row('th', ['Category', 'Share', 'Example answer']));
  const body = document.createElement('tbody');
  /** @type {string | undefined} */
  let net;
  for (const code of cf.codes) {
    if (code.net !== net && code.net) {
      const share = cf.nets.find((n) => n.name === code.net)?.share;
      const heading = row('th', [`[${code.net}]`, share === undefined ? '' : percent.format(share), '']);
      heading.className = 'net';
      body.append(heading);
    }
    net = code.net;
    const tr = row('td', [code.label, percent.format(code.share), code.examples[0] ?? '']);
    if (code.description) tr.title = code.description;
    body.append(tr);
  }
  body.append(row('td', [cf.other.label, percent.format(cf.other.share), '']));
  table.replaceChildren(head, body);
  const parts = [
    `${percent.format(cf.coverage)} of answers fit a category; shares are estimates from ${numbers.format(cf.base)} answers.`,
  ];
  if (cf.folded.length > 0)
    parts.push(`Folded into ${cf.other.label} as too rare: ${cf.folded.map((f) => f.label).join(', ')}.`);
  if (cf.simulated) parts.push('Dry run: the simulator suggested these, not a model.');
  $('suggested-summary').textContent = parts.join(' ');
  $('suggested').hidden = false;
}

/**
 * @param {'th' | 'td'} cell
 * @param {readonly string[]} texts
 */
function row(cell, texts) {
  const tr = document.createElement('tr');
  for (const text of texts) {
    const el = document.createElement(cell);
    el.textContent = text;
    if (cell === 'th') el.scope = 'col';
    tr.append(el);
  }
  return tr;
}

/** @param {'txt' | 'xlsx'} format */
async function downloadDraft(format) {
  if (!shown) return;
  try {
    const { blob, name } = await download(
      `/codeframes/${encodeURIComponent(shown.id)}/result?format=${format}`,
      `${shown.name}.categories.${format}`,
    );
    saveBlob(blob, name);
  } catch (error) {
    showSuggestError(error instanceof Error ? error.message : String(error));
  }
}

export function wireSuggest() {
  $('suggest').addEventListener('click', () => void suggest());
  $('suggest-cancel').addEventListener('click', () => {
    const id = running?.id;
    if (!id) return;
    $('suggest-status').textContent = 'Stopping…';
    cancelCodeframe(id).catch((error) => showProblem(error, 'categories'));
  });
  $('suggested-txt').addEventListener('click', () => void downloadDraft('txt'));
  $('suggested-xlsx').addEventListener('click', () => void downloadDraft('xlsx'));
  updateSuggestButton();
}
