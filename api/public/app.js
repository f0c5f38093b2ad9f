// verbatim's web page: choose a file, click the answer column, list the categories, start; follow the jobs
// live. A plain ES module with no build step; it talks to the JSON API only (see /openapi.json).

const $ = (id) => document.getElementById(id);
const numbers = new Intl.NumberFormat();
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateClock = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/* ------------------------------------------------------------------------------------------------ API */

const TOKEN_KEY = 'verbatim.apiToken';
let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
let tokenPrompt;
let tokenDeclined = false;

class ApiError extends Error {
  constructor(problem) {
    super(problem.detail);
    this.status = problem.status;
    this.code = problem.code;
    this.field = problem.field;
  }
}

/** fetch with the bearer token; a 401 asks for the token (once, shared by all calls) and tries again. */
async function request(path, init = {}) {
  for (;;) {
    const sent = token;
    const headers = new Headers(init.headers);
    if (sent) headers.set('authorization', `Bearer ${sent}`);
    let response;
    try {
      response = await fetch(path, { ...init, headers });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ApiError({
        status: 0,
        detail: 'Cannot reach the verbatim server. Check that it is running, then try again.',
      });
    }
    if (response.status !== 401) return response;
    if (token !== sent) continue; // another call got a new token meanwhile
    if (tokenDeclined) {
      throw new ApiError({ status: 401, code: 'unauthorized', detail: 'This server needs its API token.' });
    }
    await askForToken(sent !== '');
  }
}

/** The JSON body of a successful call; a problem body (or any failure) becomes an ApiError. */
async function call(path, init) {
  const response = await request(path, init);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw problemOf(response, body);
  return body;
}

function problemOf(response, body) {
  if (body && typeof body.detail === 'string') return new ApiError(body);
  return new ApiError({
    status: response.status,
    detail: `The server answered ${response.status} ${response.statusText}`.trim() + '.',
  });
}

function askForToken(rejected) {
  tokenPrompt ??= new Promise((resolve, reject) => {
    const dialog = $('token-dialog');
    const input = $('token');
    $('token-text').textContent = rejected
      ? 'That token was not accepted. Enter the API token of this server (API_TOKEN).'
      : 'This verbatim server asks for its API token (API_TOKEN). It is kept for this browser tab only.';
    input.value = '';
    dialog.returnValue = '';
    dialog.addEventListener(
      'close',
      () => {
        tokenPrompt = undefined;
        const value = input.value.trim();
        input.value = '';
        if (dialog.returnValue === 'ok' && value) {
          token = value;
          sessionStorage.setItem(TOKEN_KEY, value);
          resolve();
        } else {
          tokenDeclined = true;
          $('token-button').hidden = false;
          reject(
            new ApiError({ status: 401, code: 'unauthorized', detail: 'This server needs its API token.' }),
          );
        }
      },
      { once: true },
    );
    dialog.showModal();
  });
  return tokenPrompt;
}

/* -------------------------------------------------------------------------------------- Errors shown */

const SETTINGS = ['batchSize', 'concurrency', 'parallel', 'model', 'temperature'];
const RULES = {
  batchSize: 'Use a whole number from 1 to 200, or “auto”.',
  concurrency: 'Use a whole number from 1 to 200.',
  temperature: 'Use a number from 0 to 2, such as 0.1.',
  model: 'Use a model name such as gpt-4o-mini.',
  parallel: 'Choose on or off.',
};
/** Where a problem's `field` is shown, and what gets the focus. */
const FIELD_TARGETS = {
  file: ['file-error', 'file'],
  column: ['column-error', null],
  sheet: ['sheet-error', 'sheet'],
  categories: ['categories-error', 'categories'],
  ...Object.fromEntries(SETTINGS.map((name) => [name, [`${name}-error`, name]])),
};

function clearErrors() {
  for (const [errorId, inputId] of Object.values(FIELD_TARGETS)) {
    $(errorId).hidden = true;
    $(errorId).textContent = '';
    if (inputId) $(inputId).removeAttribute('aria-invalid');
  }
  $('form-error').hidden = true;
  $('form-error').textContent = '';
}

/** Shows `message` next to `field` (or above the Start button when the page has no such field). */
function fieldError(field, message, focus = true) {
  let target = FIELD_TARGETS[field];
  if (field === 'sheet' && $('sheet-field').hidden) target = FIELD_TARGETS.column;
  const [errorId, inputId] = target ?? ['form-error', null];
  const box = $(errorId);
  box.textContent = message;
  box.hidden = false;
  if (SETTINGS.includes(field)) $('settings').open = true;
  const input = inputId ? $(inputId) : field === 'column' ? firstColumnButton() : null;
  if (inputId) $(inputId).setAttribute('aria-invalid', 'true');
  if (focus) (input ?? box).focus?.();
  if (!input && focus) box.scrollIntoView({ block: 'nearest' });
}

/** A problem from the API, in plain words, next to the field it is about. */
function showProblem(error, fallbackField) {
  if (!(error instanceof ApiError)) {
    fieldError(fallbackField ?? 'form', `Something went wrong in the page: ${error.message}`);
    return;
  }
  const field = error.field && FIELD_TARGETS[error.field] ? error.field : fallbackField;
  let message = error.message;
  if (error.field && RULES[error.field]) {
    const given = /^\w+=("(?:[^"\\]|\\.)*")/.exec(message)?.[1];
    message = `${given ? `“${JSON.parse(given)}” is not allowed here. ` : ''}${RULES[error.field]}`;
  }
  if (error.status === 413) message = error.message.replace(/ \(MAX_UPLOAD_MB\)/, '');
  fieldError(field ?? 'form', message);
}

function announce(text) {
  const live = $('announce');
  live.textContent = '';
  requestAnimationFrame(() => (live.textContent = text));
}

/* --------------------------------------------------------------------------------- New job: the file */

const draft = { file: null, preview: null, column: -1, guessed: false, seq: 0 };

function chooseFile(file) {
  draft.file = file;
  draft.preview = null;
  draft.column = -1;
  $('file-name').textContent = `${file.name} · ${sizeText(file.size)}`;
  $('file-hint').textContent = 'Drop another file, or click to choose another';
  $('drop').classList.add('chosen');
  $('preview').hidden = true;
  $('preview-empty').hidden = true;
  void loadPreview();
}

async function loadPreview(sheet) {
  const seq = ++draft.seq;
  const file = draft.file;
  clearErrors();
  $('preview-status').textContent = `Reading ${file.name}…`;
  const body = new FormData();
  body.append('file', file);
  if (sheet) body.append('sheet', sheet);
  try {
    const preview = await call('/jobs/preview', { method: 'POST', body });
    if (seq !== draft.seq) return;
    $('preview-status').textContent = '';
    draft.preview = preview;
    draft.column = -1;
    renderPreview();
  } catch (error) {
    if (seq !== draft.seq) return;
    $('preview-status').textContent = '';
    if (sheet && draft.preview) {
      $('sheet').value = draft.preview.sheet; // back to the sheet still shown
    } else {
      // The file cannot be read: forget it, so that Start does not send it.
      draft.file = null;
      draft.preview = null;
      renderPreview();
      $('drop').classList.remove('chosen');
      $('file-name').replaceChildren(...dropPrompt());
      $('file-hint').textContent = '.xlsx or .csv, one row per respondent';
    }
    showProblem(error, sheet ? 'sheet' : 'file');
  }
}

function dropPrompt() {
  const u = document.createElement('u');
  u.textContent = 'choose a file';
  return ['Drop an Excel or CSV file here, or ', u];
}

function renderPreview() {
  const preview = draft.preview;
  $('preview').hidden = !preview;
  $('preview-empty').hidden = Boolean(preview);
  if (!preview) return;

  const select = $('sheet');
  select.replaceChildren(
    ...preview.sheets.map((s) => {
      const option = new Option(s.state === 'visible' ? s.name : `${s.name} (hidden)`, s.name);
      option.selected = s.name === preview.sheet;
      return option;
    }),
  );
  $('sheet-field').hidden = preview.sheets.length < 2;

  const table = $('preview-table');
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
  table.replaceChildren(thead, tbody);

  const guess = guessColumn(preview);
  draft.guessed = guess >= 0;
  pickColumn(guess);
  // On a narrow screen the guessed column may sit off to the right: bring it into view.
  const picked = table.querySelector('th.picked');
  const wrap = table.parentElement;
  if (picked && picked.offsetLeft + picked.offsetWidth > wrap.clientWidth) {
    const right = picked.offsetLeft + picked.offsetWidth - wrap.clientWidth + 16;
    wrap.scrollLeft = Math.min(picked.offsetLeft - 16, right);
  }
}

function span(className, text) {
  const el = document.createElement('span');
  el.className = className;
  el.textContent = text;
  return el;
}

/** The open-text column: the one whose cells are the longest texts (numbers and dates do not count). */
function guessColumn(preview) {
  let best = -1;
  let bestScore = 12; // shorter than this on average: codes, names, dates, not answers to a question
  preview.columns.forEach((_, i) => {
    const cells = preview.rows.map((r) => (r.cells[i] ?? '').trim()).filter((t) => t !== '');
    const texts = cells.filter((t) => /\p{L}{2}/u.test(t) && !/^[\d\s.,:/+-]+$/.test(t));
    if (cells.length === 0 || texts.length * 2 < cells.length) return;
    const score = texts.reduce((sum, t) => sum + t.length, 0) / texts.length;
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  });
  return best;
}

function pickColumn(index) {
  draft.column = index;
  for (const cell of $('preview-table').querySelectorAll('[data-col]')) {
    const on = Number(cell.dataset.col) === index;
    if (cell.tagName === 'BUTTON') cell.setAttribute('aria-pressed', String(on));
    else cell.classList.toggle('picked', on);
  }
  const choice = $('column-choice');
  const column = draft.preview?.columns[index];
  if (!column) {
    choice.textContent = 'No column picked yet.';
    return;
  }
  $('column-error').hidden = true;
  const name = document.createElement('strong');
  name.textContent = column.header || `column ${column.letter}`;
  const parts = ['Answer column: ', name];
  if (column.header) parts.push(` (column ${column.letter})`);
  if (column.question && column.question !== column.header) parts.push(`: “${column.question}”`);
  const size = sheetSize(draft.preview);
  if (size) parts.push(`. About ${numbers.format(size)} rows.`);
  else parts.push('.');
  if (draft.guessed)
    parts.push(' Picked for you: it has the longest texts. Click another header to change it.');
  choice.replaceChildren(...parts);
}

function sheetSize(preview) {
  const sheet = preview.sheets.find((s) => s.name === preview.sheet);
  return sheet?.lastRow && preview.headerRow ? Math.max(0, sheet.lastRow - preview.headerRow) : undefined;
}

function firstColumnButton() {
  const buttons = [...$('preview-table').querySelectorAll('th button')];
  return buttons.find((b) => b.getAttribute('aria-pressed') === 'true') ?? buttons[0] ?? null;
}

/** What to send as `column`: the header when it names one column only, else the column letter. */
function columnValue(preview, index) {
  const column = preview.columns[index];
  const key = (text) => (text ?? '').trim().replace(/\s+/g, ' ').toLowerCase();
  const header = key(column.header);
  const clash = preview.columns.some(
    (other, i) => i !== index && (key(other.header) === header || key(other.question) === header),
  );
  return header && !clash ? column.header.trim() : column.letter;
}

/* ---------------------------------------------------------------------------- New job: categories */

function categoryNames(text) {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) =>
      line
        .replace(/^(?:[-*•]|\d+[.)])\s+/u, '')
        .split(':')[0]
        .trim(),
    );
}

function updateCategoryCount() {
  const names = categoryNames($('categories').value);
  const hasOther = names.some((n) => n.toLowerCase() === 'other');
  $('categories-count').textContent =
    names.length === 0
      ? 'No categories yet.'
      : `${names.length} ${names.length === 1 ? 'category' : 'categories'}${hasOther ? '' : ', plus Other'}.`;
}

/* ------------------------------------------------------------------------------------ New job: start */

async function startJob(event) {
  event.preventDefault();
  clearErrors();
  if (!draft.file) return fieldError('file', 'Choose the survey file first: an .xlsx or .csv file.');
  if (!draft.preview) return fieldError('file', 'The file is still being read: wait a moment, then start.');
  if (draft.column < 0) return fieldError('column', 'Click the header of the column that holds the answers.');

  const preview = draft.preview;
  const column = columnValue(preview, draft.column);
  const body = new FormData();
  body.append('file', draft.file);
  body.append('sheet', preview.sheet);
  body.append('column', column);
  body.append('categories', $('categories').value);
  for (const name of SETTINGS) {
    const value = $(name).value.trim();
    if (value) body.append(name, value);
  }

  const button = $('start');
  button.disabled = true;
  button.textContent = 'Starting…';
  $('form-status').textContent = `Uploading ${draft.file.name}…`;
  try {
    const started = await call('/jobs', { method: 'POST', body });
    const job = upsertJob({
      jobId: started.jobId,
      status: 'RUNNING',
      fileName: draft.file.name,
      column,
      createdAt: new Date().toISOString(),
      closedAt: null,
      links: started.links,
    });
    job.fresh = true;
    renderJobs();
    watchJobs();
    const link = document.createElement('a');
    link.href = `#${cardId(job.jobId)}`;
    link.textContent = 'Follow it in Jobs';
    $('form-status').replaceChildren(`Started: ${column} of ${draft.file.name}. `, link);
    announce(`Started coding ${column} of ${draft.file.name}.`);
    const card = $(cardId(job.jobId));
    if (card && card.getBoundingClientRect().top > window.innerHeight) {
      card.scrollIntoView({ behavior: 'smooth', block: 'center' });
    }
  } catch (error) {
    $('form-status').textContent = '';
    showProblem(error, 'form');
  } finally {
    button.disabled = false;
    button.textContent = 'Start coding';
  }
}

/* ---------------------------------------------------------------------------------------- Jobs */

/** jobId → what the page knows: the list entry, then the job view and live progress. */
const jobs = new Map();
const cards = new Map();
const streams = new Map();
const MAX_STREAMS = 4; // browsers keep ~6 connections per server; leave room for the other calls
let nextPageToken = null;
let morePages = false;

function upsertJob(fields) {
  const job = jobs.get(fields.jobId) ?? { jobId: fields.jobId, progress: null, stats: null, detailed: false };
  Object.assign(job, fields);
  jobs.set(job.jobId, job);
  return job;
}

/** A `GET /jobs` entry: never turns a job we saw finish back into a running one (the list lags a little). */
function mergeListItem(item) {
  const known = jobs.get(item.jobId);
  const newerRun = !known || !known.createdAt || (item.createdAt ?? '') > known.createdAt;
  if (known && known.status !== 'RUNNING' && item.status === 'RUNNING' && !newerRun) return;
  if (known && known.status === 'RUNNING' && item.status !== 'RUNNING') known.detailed = false;
  upsertJob({
    jobId: item.jobId,
    status: item.status,
    fileName: item.fileName ?? known?.fileName ?? null,
    column: item.column ?? known?.column ?? null,
    phase: item.phase ?? null,
    rows: item.rows ?? null,
    fallbacks: item.fallbacks ?? null,
    createdAt: item.createdAt ?? known?.createdAt ?? null,
    closedAt: item.closedAt ?? null,
    links: item.links,
  });
}

/** A `GET /jobs/:id` view (also the `done` event and PATCH's answer). */
function applyView(view) {
  const known = jobs.get(view.jobId);
  const wasRunning = known?.status === 'RUNNING';
  const job = upsertJob({
    jobId: view.jobId,
    status: view.status,
    fileName: view.fileName ?? known?.fileName ?? null,
    column: view.progress?.column ?? known?.column ?? null,
    createdAt: view.createdAt,
    closedAt: view.closedAt,
    progress: view.progress ?? known?.progress ?? null,
    stats: view.stats ?? null,
    error: view.error ?? null,
    links: view.links,
    detailed: view.status !== 'RUNNING',
  });
  if (job.status !== 'RUNNING') job.cancelling = false;
  if (wasRunning && job.status !== 'RUNNING') {
    announce(`${jobName(job)}: ${badgeOf(job)[0].toLowerCase()}.`);
  }
  renderJob(job);
  return job;
}

function applyProgress(jobId, progress) {
  const job = jobs.get(jobId);
  if (!job) return;
  job.progress = progress;
  job.column ??= progress.column;
  job.connection = 'live';
  renderJob(job);
}

async function refreshJobs() {
  try {
    const page = await call('/jobs?pageSize=20');
    const seen = new Set();
    for (const item of page.jobs) {
      if (seen.has(item.jobId)) continue; // an earlier run of the same job
      seen.add(item.jobId);
      mergeListItem(item);
    }
    if (!morePages) nextPageToken = page.nextPageToken;
    $('jobs-error').hidden = true;
  } catch (error) {
    showJobsError(error);
  }
  renderJobs();
  watchJobs();
  void loadDetails();
}

async function loadOlderJobs() {
  if (!nextPageToken) return;
  const button = $('more');
  button.disabled = true;
  try {
    const page = await call(`/jobs?pageSize=20&pageToken=${encodeURIComponent(nextPageToken)}`);
    for (const item of page.jobs) if (!jobs.has(item.jobId)) mergeListItem(item);
    nextPageToken = page.nextPageToken;
    morePages = true;
  } catch (error) {
    showJobsError(error);
  } finally {
    button.disabled = false;
  }
  renderJobs();
  void loadDetails();
}

function showJobsError(error) {
  const box = $('jobs-error');
  box.textContent = error instanceof ApiError ? error.message : String(error);
  box.hidden = false;
}

let detailsRunning = false;

/** Finished jobs: one `GET /jobs/:id` each for their stats and error, two at a time. */
async function loadDetails() {
  if (detailsRunning) return;
  detailsRunning = true;
  try {
    for (;;) {
      const todo = [...jobs.values()].filter((j) => j.status !== 'RUNNING' && !j.detailed && !j.detailFailed);
      if (todo.length === 0) break;
      await Promise.all(todo.slice(0, 2).map((job) => loadDetail(job)));
    }
  } finally {
    detailsRunning = false;
  }
}

async function loadDetail(job) {
  try {
    applyView(await call(`/jobs/${encodeURIComponent(job.jobId)}`));
  } catch (error) {
    job.detailFailed = true;
    if (error instanceof ApiError && error.status === 404) job.error = 'This job is no longer on the server.';
    renderJob(job);
  }
}

/** Live progress: an event stream for the newest running jobs, a poll every few seconds for the rest. */
function watchJobs() {
  const running = sortedJobs().filter((j) => j.status === 'RUNNING');
  for (const job of running.slice(0, MAX_STREAMS)) {
    if (streams.size >= MAX_STREAMS) break;
    if (!streams.has(job.jobId)) void streamJob(job.jobId);
  }
}

async function pollUnwatched() {
  const waiting = [...jobs.values()].filter((j) => j.status === 'RUNNING' && !streams.has(j.jobId));
  for (const job of waiting) await loadDetail(job);
}

/**
 * Reads `/jobs/:id/events` with fetch (EventSource cannot send the bearer token): `progress` updates the
 * card, `done` ends the stream, `shutdown` (the server is draining) or a lost connection reconnects.
 */
async function streamJob(jobId) {
  const control = new AbortController();
  streams.set(jobId, control);
  let delay = 1_000;
  try {
    for (;;) {
      let reconnectIn = delay;
      try {
        const response = await request(`/jobs/${encodeURIComponent(jobId)}/events`, {
          headers: { accept: 'text/event-stream' },
          cache: 'no-store',
          signal: control.signal,
        });
        if (!response.ok) throw problemOf(response, await response.json().catch(() => null));
        for await (const event of serverSentEvents(response.body)) {
          if (event.event === 'progress') {
            delay = 1_000;
            applyProgress(jobId, JSON.parse(event.data));
          } else if (event.event === 'done') {
            applyView(JSON.parse(event.data));
            return;
          } else if (event.event === 'shutdown') {
            reconnectIn = event.retry || 2_000;
            setConnection(jobId, 'The server is restarting: reconnecting…');
            break;
          }
        }
      } catch (error) {
        if (control.signal.aborted) return;
        if (error instanceof ApiError && (error.status === 404 || error.status === 401)) {
          const job = jobs.get(jobId);
          if (job && error.status === 404) {
            job.status = 'UNKNOWN';
            job.error = 'This job is no longer on the server.';
          }
          return;
        }
      }
      if (jobs.get(jobId)?.connection !== 'The server is restarting: reconnecting…') {
        setConnection(jobId, 'Connection lost: reconnecting…');
      }
      await sleep(reconnectIn, control.signal);
      if (control.signal.aborted) return;
      delay = Math.min(delay * 2, 5_000);
    }
  } finally {
    streams.delete(jobId);
    const job = jobs.get(jobId);
    if (job) {
      job.connection = 'live';
      renderJob(job);
    }
    watchJobs();
  }
}

function setConnection(jobId, text) {
  const job = jobs.get(jobId);
  if (!job) return;
  job.connection = text;
  renderJob(job);
}

async function* serverSentEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = { event: 'message', data: [], retry: 0 };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, end).replace(/\r$/, '');
        buffer = buffer.slice(end + 1);
        if (line === '') {
          if (event.data.length > 0)
            yield { event: event.event, data: event.data.join('\n'), retry: event.retry };
          else if (event.event !== 'message') yield { event: event.event, data: '', retry: event.retry };
          event = { event: 'message', data: [], retry: 0 };
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const text = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event.event = text;
          else if (field === 'data') event.data.push(text);
          else if (field === 'retry' && /^\d+$/.test(text)) event.retry = Number(text);
        }
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/* ----------------------------------------------------------------------------------- Job cards */

function sortedJobs() {
  return [...jobs.values()].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
}

const cardId = (jobId) => `job-${jobId.replace(/[^\w-]/g, '_')}`;

function jobName(job) {
  const column = job.progress?.column ?? job.column;
  return `${job.fileName ?? job.jobId}${column ? ` · ${column}` : ''}`;
}

function renderJobs() {
  const list = $('jobs');
  const ordered = sortedJobs();
  for (const job of ordered) renderJob(job);
  // Insert or move only the cards out of place: moving a card would take the focus from its buttons.
  ordered.forEach((job, i) => {
    const card = cards.get(job.jobId);
    if (list.children[i] !== card) list.insertBefore(card, list.children[i] ?? null);
  });
  while (list.children.length > ordered.length) list.lastElementChild.remove();
  $('jobs-empty').hidden = ordered.length > 0;
  $('more').hidden = !nextPageToken;
}

function createCard(job) {
  const card = $('job-template').content.firstElementChild.cloneNode(true);
  card.id = cardId(job.jobId);
  card.dataset.job = job.jobId;
  const title = card.querySelector('.job-title');
  title.id = `${card.id}-title`;
  card.setAttribute('aria-labelledby', title.id);
  cards.set(job.jobId, card);
  return card;
}

function badgeOf(job) {
  const p = job.progress;
  switch (job.status) {
    case 'RUNNING': {
      if (job.cancelling) return ['Cancelling…', 'warn'];
      if (p?.paused) return ['Paused', 'warn'];
      const phase = p?.phase ?? job.phase;
      const label = { preparing: 'Preparing', classifying: 'Coding', writing: 'Writing the file' }[phase];
      return [label ?? 'Running', 'run'];
    }
    case 'COMPLETED':
      return ['Done', 'ok'];
    case 'FAILED':
      return ['Failed', 'bad'];
    case 'CANCELLED':
      return ['Cancelled', 'warn'];
    case 'TERMINATED':
      return ['Stopped', 'bad'];
    case 'TIMED_OUT':
      return ['Timed out', 'bad'];
    default:
      return ['Unknown', ''];
  }
}

/** Percent of rows done, or null while there is nothing to measure yet. */
function percentOf(job) {
  const rows = job.progress?.rows;
  if (job.status === 'COMPLETED') return 100;
  if (!rows || rows.total === 0) return null;
  return Math.min(100, Math.floor((rows.done / rows.total) * 100));
}

function renderJob(job) {
  const card = cards.get(job.jobId) ?? createCard(job);
  const q = (selector) => card.querySelector(selector);
  const p = job.progress;
  const running = job.status === 'RUNNING';

  q('.job-file').textContent = job.fileName ?? job.jobId;
  const column = p?.column ?? job.column;
  q('.job-column').textContent = column ? `· ${column}` : '';
  const simulated = p?.simulated ?? job.simulated;
  const dry = q('.dry-run');
  dry.hidden = !simulated;
  dry.title = 'No OPENAI_API_KEY on the server: a simulator answered, so these are not real codings.';
  const [label, tone] = badgeOf(job);
  const badge = q('.badge');
  badge.textContent = label;
  badge.dataset.tone = tone;
  card.classList.toggle('fresh', Boolean(job.fresh && running));

  const meta = [];
  if (job.createdAt) meta.push(`Started ${when(job.createdAt)}`);
  if (running && p && p.batches.total > 0) {
    meta.push(
      `${numbers.format(p.batches.done)} of ${numbers.format(p.batches.total)} batches done, ${p.batches.inFlight} in flight`,
    );
  }
  if (running && job.connection && job.connection !== 'live') meta.push(job.connection);
  q('.job-meta').textContent = meta.join(' · ');

  const bar = q('.bar');
  const percent = percentOf(job);
  bar.setAttribute('aria-label', `Progress of ${jobName(job)}`);
  bar.dataset.tone = { ok: 'ok', warn: 'warn', bad: 'bad' }[tone] ?? '';
  bar.classList.toggle('busy', percent === null && running);
  if (percent === null) {
    bar.removeAttribute('aria-valuenow');
    bar.setAttribute('aria-valuetext', running ? 'Preparing' : 'No progress recorded');
    q('.bar-fill').style.width = '0%';
  } else {
    bar.setAttribute('aria-valuenow', String(percent));
    const rows = p?.rows;
    bar.setAttribute(
      'aria-valuetext',
      rows
        ? `${numbers.format(rows.done)} of ${numbers.format(rows.total)} rows (${percent}%)`
        : `${percent}%`,
    );
    q('.bar-fill').style.width = `${percent}%`;
  }

  const stat = (name) => q(`[data-stat="${name}"]`);
  const planned = p && p.rows.total > 0;
  stat('rows').textContent = planned
    ? `${numbers.format(p.rows.done)} / ${numbers.format(p.rows.total)}`
    : job.rows != null
      ? numbers.format(job.rows)
      : '–';
  const rate = job.stats?.ratePerMinute ?? p?.ratePerMinute;
  stat('rate').textContent = rate ? `${numbers.format(Math.round(rate))}/min` : '–';
  q('[data-label="eta"]').textContent = running ? 'Time left' : 'Took';
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
  fallbacks.classList.toggle('warn', (fallbackRows ?? fallbackBatches) > 0);
  const reasons = Object.entries(p?.fallbackReasons ?? {});
  fallbacks.title = reasons.length
    ? `Coded “Other” after retries ran out:\n${reasons.map(([why, n]) => `${n} × ${why}`).join('\n')}`
    : '';
  const limited = job.stats?.rateLimited ?? p?.rateLimited;
  stat('limited').textContent = limited == null ? '–' : numbers.format(limited);
  stat('limited').classList.toggle('warn', limited > 0);

  const error = q('.job-error');
  error.textContent = job.error ?? '';
  error.hidden = !job.error;

  const downloadable = job.status === 'COMPLETED' || (job.status === 'CANCELLED' && job.stats);
  for (const link of card.querySelectorAll('.download')) {
    link.hidden = !downloadable || !job.links?.result;
    if (job.links?.result) link.href = `${job.links.result}?format=${link.dataset.format}`;
  }
  if (job.status === 'CANCELLED') q('.download').textContent = 'Download partial .xlsx';
  const pause = q('.pause');
  pause.hidden = !running || job.cancelling;
  pause.textContent = p?.paused ? 'Resume' : 'Pause';
  pause.setAttribute('aria-label', `${p?.paused ? 'Resume' : 'Pause'} ${jobName(job)}`);
  const cancel = q('.cancel');
  cancel.hidden = !running || job.cancelling;
  cancel.setAttribute('aria-label', `Cancel ${jobName(job)}`);
  const limit = q('.limit');
  limit.hidden = !running || job.cancelling || p?.phase !== 'classifying';
  const limitInput = limit.querySelector('input');
  limitInput.setAttribute('aria-label', `Requests at once for ${jobName(job)}`);
  if (p && document.activeElement !== limitInput) limitInput.value = String(p.window.max);
  const temporal = q('.temporal');
  temporal.hidden = !job.links?.temporal;
  if (job.links?.temporal) temporal.href = job.links.temporal;
  temporal.setAttribute('aria-label', `${jobName(job)} in the Temporal UI (opens a new tab)`);
  return card;
}

/* --------------------------------------------------------------------------------- Job actions */

function actionError(card, error) {
  const box = card.querySelector('.action-error');
  box.textContent = error instanceof ApiError ? error.message : String(error);
  box.hidden = false;
}

async function onJobAction(event) {
  const card = event.target.closest('.job');
  if (!card) return;
  const job = jobs.get(card.dataset.job);
  if (!job) return;
  const target = event.target.closest('button, a');
  if (!target) return;
  card.querySelector('.action-error').hidden = true;
  if (target.classList.contains('pause')) {
    const paused = !job.progress?.paused;
    await busy(target, async () => {
      applyView(await patchJob(job, { paused }));
      announce(`${jobName(job)} ${paused ? 'paused' : 'resumed'}.`);
    }).catch((error) => actionError(card, error));
  } else if (target.classList.contains('cancel')) {
    const ok = window.confirm(
      `Cancel coding ${jobName(job)}?\n\nThe rows coded so far are kept: you can download them as a partial result.`,
    );
    if (!ok) return;
    await busy(target, async () => {
      await call(`/jobs/${encodeURIComponent(job.jobId)}/cancel`, { method: 'POST' });
      job.cancelling = true;
      renderJob(job);
      if (!streams.has(job.jobId)) void loadDetail(job);
    }).catch((error) => actionError(card, error));
  } else if (target.classList.contains('download') && token) {
    // A plain link cannot send the token: fetch the file, then hand it to the browser.
    event.preventDefault();
    await busy(target, async () => {
      const response = await request(target.href);
      if (!response.ok) throw problemOf(response, await response.json().catch(() => null));
      const name =
        fileNameOf(response.headers.get('content-disposition')) ?? `${job.jobId}.${target.dataset.format}`;
      saveBlob(await response.blob(), name);
    }).catch((error) => actionError(card, error));
  }
}

async function onLimit(event) {
  const form = event.target.closest('.limit');
  if (!form) return;
  event.preventDefault();
  const card = form.closest('.job');
  const job = jobs.get(card.dataset.job);
  const value = Number(form.querySelector('input').value);
  card.querySelector('.action-error').hidden = true;
  if (!Number.isInteger(value) || value < 1 || value > 200) {
    actionError(card, new ApiError({ detail: 'Requests at once: use a whole number from 1 to 200.' }));
    return;
  }
  await busy(form.querySelector('button'), async () => {
    applyView(await patchJob(job, { concurrency: value }));
    announce(`${jobName(job)}: up to ${value} requests at once.`);
  }).catch((error) => actionError(card, error));
}

function patchJob(job, body) {
  return call(`/jobs/${encodeURIComponent(job.jobId)}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function busy(control, work) {
  control.setAttribute('aria-disabled', 'true');
  if ('disabled' in control) control.disabled = true;
  try {
    await work();
  } finally {
    control.removeAttribute('aria-disabled');
    if ('disabled' in control) control.disabled = false;
  }
}

function fileNameOf(disposition) {
  if (!disposition) return undefined;
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
  if (encoded) return decodeURIComponent(encoded);
  return /filename="([^"]+)"/i.exec(disposition)?.[1];
}

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/* -------------------------------------------------------------------------------------- Format */

function when(iso) {
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today ? `at ${clock.format(date)}` : dateClock.format(date);
}

function duration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/* ------------------------------------------------------------------------------------ Wiring */

function wire() {
  $('file').addEventListener('change', (event) => {
    const file = event.target.files?.[0];
    if (file) chooseFile(file);
  });
  const drop = $('drop');
  let depth = 0;
  window.addEventListener('dragenter', (event) => {
    if (![...(event.dataTransfer?.types ?? [])].includes('Files')) return;
    depth += 1;
    drop.classList.add('over');
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) drop.classList.remove('over');
  });
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    drop.classList.remove('over');
    const file = event.dataTransfer?.files?.[0];
    if (file) chooseFile(file);
  });

  $('sheet').addEventListener('change', (event) => void loadPreview(event.target.value));
  const table = $('preview-table');
  table.addEventListener('click', (event) => {
    const button = event.target.closest('th button');
    if (!button) return;
    draft.guessed = false;
    pickColumn(Number(button.dataset.col));
  });
  table.addEventListener('keydown', (event) => {
    const button = event.target.closest('th button');
    if (!button) return;
    const buttons = [...table.querySelectorAll('th button')];
    const i = buttons.indexOf(button);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: buttons.length - 1 }[event.key];
    if (next === undefined || !buttons[next]) return;
    event.preventDefault();
    buttons[next].focus();
  });

  $('categories').addEventListener('input', () => {
    updateCategoryCount();
    $('categories-error').hidden = true;
    $('categories').removeAttribute('aria-invalid');
  });
  $('categories-file').addEventListener('change', async (event) => {
    const file = event.target.files?.[0];
    if (!file) return;
    $('categories').value = await file.text();
    event.target.value = '';
    updateCategoryCount();
    $('categories').focus();
  });
  for (const name of SETTINGS) {
    $(name).addEventListener('input', () => {
      $(`${name}-error`).hidden = true;
      $(name).removeAttribute('aria-invalid');
    });
  }
  $('job-form').addEventListener('submit', (event) => void startJob(event));

  $('jobs').addEventListener('click', (event) => void onJobAction(event));
  $('jobs').addEventListener('submit', (event) => void onLimit(event));
  $('refresh').addEventListener('click', () => void refreshJobs());
  $('more').addEventListener('click', () => void loadOlderJobs());
  $('token-button').addEventListener('click', () => {
    tokenDeclined = false;
    $('token-button').hidden = true;
    void refreshJobs();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void refreshJobs();
  });

  let ticks = 0;
  setInterval(() => {
    ticks += 1;
    if (document.visibilityState !== 'visible') return;
    void pollUnwatched();
    if (ticks % 3 === 0) void refreshJobs();
  }, 5_000);
}

/** The server's defaults as placeholders, so "leave empty" says what it means. */
async function loadSettings() {
  const settings = await call('/settings').catch(() => null);
  if (!settings) return;
  const d = settings.defaults;
  $('batchSize').placeholder = `default: ${d.batchSize}`;
  $('concurrency').placeholder = `default: ${d.concurrency}`;
  $('concurrency').max = String(settings.limits.maxConcurrency);
  $('model').placeholder = `default: ${d.model}`;
  $('temperature').placeholder = `default: ${d.temperature}`;
  $('parallel').options[0].textContent = `Server default (${d.parallel ? 'on' : 'off'})`;
}

wire();
updateCategoryCount();
void loadSettings();
void refreshJobs();
