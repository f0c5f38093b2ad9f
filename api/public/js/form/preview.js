// @ts-check
// Step 2: the sheet and the answer column, picked on a preview of the file's first rows.

/** @import { Preview } from '../types.js' */
import { previewFile } from '../api.js';
import { $, span } from '../dom.js';
import { numbers } from '../format.js';
import { renderBanners, tickBanners } from './banners.js';
import { findColumn, guessColumn, sheetSize } from './columns.js';
import { appendSource, draft, sourceName } from './draft.js';
import { showNoFile } from './drop-zone.js';
import { clearErrors, showProblem } from './field-errors.js';
import { updateSuggestButton } from './suggest.js';

/**
 * Previews the draft's file (`sheet`, else its first sheet); a file that cannot be read is forgotten.
 * @param {string} [sheet]
 */
export async function loadPreview(sheet) {
  const seq = ++draft.seq;
  const name = sourceName();
  if (!name) return;
  clearErrors();
  $('preview-status').textContent = `Reading ${name}…`;
  const body = new FormData();
  appendSource(body);
  if (sheet) body.append('sheet', sheet);
  try {
    const preview = await previewFile(body);
    if (seq !== draft.seq) return;
    $('preview-status').textContent = '';
    draft.preview = preview;
    draft.column = -1;
    renderPreview();
  } catch (error) {
    if (seq !== draft.seq) return;
    $('preview-status').textContent = '';
    if (sheet && draft.preview) {
      $('sheet', HTMLSelectElement).value = draft.preview.sheet; // back to the sheet still shown
    } else {
      // The file cannot be read (or the server no longer keeps the job's): forget it, so that Start does
      // not send it.
      if (draft.fromJob) $('again-note').textContent += ' The server no longer has it: choose the file.';
      draft.file = null;
      draft.fromJob = null;
      draft.preview = null;
      renderPreview();
      showNoFile();
    }
    showProblem(error, sheet ? 'sheet' : 'file');
  }
}

function renderPreview() {
  const preview = draft.preview;
  updateSuggestButton();
  $('preview').hidden = !preview;
  $('preview-empty').hidden = Boolean(preview);
  if (!preview) return;

  const select = $('sheet', HTMLSelectElement);
  select.replaceChildren(
    ...preview.sheets.map((s) => {
      const option = new Option(s.state === 'visible' ? s.name : `${s.name} (hidden)`, s.name);
      option.selected = s.name === preview.sheet;
      return option;
    }),
  );
  $('sheet-field').hidden = preview.sheets.length < 2;

  const table = $('preview-table', HTMLTableElement);
  table.replaceChildren(tableHead(preview), tableBody(preview));

  // The human-coded column is picked from the same columns; none by default.
  $('gold-column', HTMLSelectElement).replaceChildren(
    new Option('None', ''),
    ...preview.columns.map(
      (column, i) => new Option(`${column.letter}: ${column.header || '(no header)'}`, String(i)),
    ),
  );

  renderBanners(preview);
  tickBanners(preview, draft.wantBanners);
  draft.wantBanners = [];
  const gold = draft.wantGold ? findColumn(preview, draft.wantGold) : -1;
  draft.wantGold = null;
  if (gold >= 0) $('gold-column', HTMLSelectElement).value = String(gold);

  const wanted = wantedColumn(preview);
  const guess = wanted >= 0 ? wanted : guessColumn(preview);
  draft.guessed = wanted < 0 && guess >= 0;
  pickColumn(guess);
  // On a narrow screen the guessed column may sit off to the right: bring it into view.
  const picked = table.querySelector('th.picked');
  const wrap = table.parentElement;
  if (picked instanceof HTMLElement && wrap && picked.offsetLeft + picked.offsetWidth > wrap.clientWidth) {
    const right = picked.offsetLeft + picked.offsetWidth - wrap.clientWidth + 16;
    wrap.scrollLeft = Math.min(picked.offsetLeft - 16, right);
  }
}

/**
 * The column a job run again coded, if this sheet has it (by the name the job was sent, its header or its
 * letter); asked once, by the first preview after "Run again with changes".
 * @param {Preview} preview
 */
function wantedColumn(preview) {
  const want = draft.wantColumn;
  if (!want) return -1;
  draft.wantColumn = null;
  // Its note says which file is coded while that is the job's upload; a file chosen again is said by the drop zone.
  if (!draft.fromJob) $('again-note').hidden = true;
  return findColumn(preview, want);
}

/**
 * The header row: one button per column (letter, header, question) to pick it.
 * @param {Preview} preview
 */
function tableHead(preview) {
  const head = document.createElement('tr');
  const corner = document.createElement('th');
  corner.className = 'rownum';
  corner.scope = 'col';
  corner.textContent = 'Row';
  head.append(corner);
  preview.columns.forEach((column, i) => {
    const th = document.createElement('th');
    th.scope = 'col';
    th.dataset.col = String(i);
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.col = String(i);
    button.setAttribute('aria-pressed', 'false');
    button.setAttribute('aria-describedby', 'column-error');
    const letter = span('letter', `Column ${column.letter}`);
    const header = span('header', column.header || '(no header)');
    button.append(letter, header);
    if (column.question && column.question !== column.header)
      button.append(span('question', column.question));
    button.title = [column.header, column.question].filter(Boolean).join('\n');
    th.append(button);
    head.append(th);
  });
  const thead = document.createElement('thead');
  thead.append(head);
  return thead;
}

/** @param {Preview} preview */
function tableBody(preview) {
  const tbody = document.createElement('tbody');
  for (const row of preview.rows) {
    const tr = document.createElement('tr');
    const num = document.createElement('td');
    num.className = 'rownum';
    num.textContent = String(row.row);
    tr.append(num);
    preview.columns.forEach((_, i) => {
      const td = document.createElement('td');
      td.dataset.col = String(i);
      const text = row.cells[i] ?? '';
      td.append(span(text.length > 24 ? 'long' : 'short', text));
      if (text.length > 60) td.title = text;
      tr.append(td);
    });
    tbody.append(tr);
  }
  if (preview.rows.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = preview.columns.length + 1;
    td.textContent =
      preview.columns.length === 0 ? 'This sheet is empty.' : 'No answers under the header row.';
    tr.append(td);
    tbody.append(tr);
  }
  return tbody;
}

/**
 * Marks the column picked and says which it is.
 * @param {number} index in the preview's columns; -1 for none
 */
function pickColumn(index) {
  draft.column = index;
  updateSuggestButton();
  for (const cell of $('preview-table').querySelectorAll('[data-col]')) {
    if (!(cell instanceof HTMLElement)) continue;
    const on = Number(cell.dataset.col) === index;
    if (cell.tagName === 'BUTTON') cell.setAttribute('aria-pressed', String(on));
    else cell.classList.toggle('picked', on);
  }
  const choice = $('column-choice');
  const preview = draft.preview;
  const column = preview?.columns[index];
  if (!preview || !column) {
    choice.textContent = 'No column picked yet.';
    return;
  }
  $('column-error').hidden = true;
  const name = document.createElement('strong');
  name.textContent = column.header || `column ${column.letter}`;
  /** @type {Array<string | Node>} */
  const parts = ['Answer column: ', name];
  if (column.header) parts.push(` (column ${column.letter})`);
  if (column.question && column.question !== column.header) parts.push(`: “${column.question}”`);
  const size = sheetSize(preview);
  if (size) parts.push(`. About ${numbers.format(size)} rows.`);
  else parts.push('.');
  if (draft.guessed)
    parts.push(' Picked for you: it has the longest texts. Click another header to change it.');
  choice.replaceChildren(...parts);
}

/** Another sheet previews its own rows; a header click picks the column; arrow keys move along them. */
export function wirePreview() {
  const select = $('sheet', HTMLSelectElement);
  select.addEventListener('change', () => void loadPreview(select.value));
  const table = $('preview-table');
  table.addEventListener('click', (event) => {
    const button = headerButton(event);
    if (!button) return;
    draft.guessed = false;
    pickColumn(Number(button.dataset.col));
  });
  table.addEventListener('keydown', (event) => {
    const button = headerButton(event);
    if (!button) return;
    const buttons = [...table.querySelectorAll('th button')].filter((b) => b instanceof HTMLButtonElement);
    const i = buttons.indexOf(button);
    /** @type {Record<string, number>} */
    const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: buttons.length - 1 };
    const next = buttons[moves[event.key] ?? -1];
    if (!next) return;
    event.preventDefault();
    next.focus();
  });
}

/**
 * The column header button an event happened in, if any.
 * @param {Event} event
 */
function headerButton(event) {
  const button = event.target instanceof Element ? event.target.closest('th button') : null;
  return button instanceof HTMLButtonElement ? button : null;
}
