// @ts-check
// verbatim's web page: choose a file, click the answer column, list the categories, start; follow the jobs
// live. Plain ES modules with no build step; they talk to the JSON API only (see /openapi.json).
//
// form/  the new job: the file (file.js, drop-zone.js), the sheet and column (preview.js, columns.js), the
//        categories (suggested from the answers: suggest.js), the settings, the errors shown next to their fields, and Start
// jobs/  the list (list.js), each job's card (card.js, status.js), its live progress (live.js, view.js)
//        and its buttons (actions.js)
// api.js the API calls, auth.js the token, sse.js the event-stream reader, dom.js and format.js helpers

import { wireTokenButton } from './auth.js';
import { updateCategoryCount, wireCategories } from './form/categories.js';
import { wireFile } from './form/file.js';
import { wireMulti } from './form/multi.js';
import { wirePreview } from './form/preview.js';
import { loadSettings, wireSettings } from './form/settings.js';
import { wireEstimate } from './form/estimate.js';
import { wireStart } from './form/start.js';
import { wireSuggest } from './form/suggest.js';
import { wireActions } from './jobs/actions.js';
import { refreshJobs, wireList } from './jobs/list.js';
import { wireTables } from './jobs/tables.js';
import { pollUnwatched } from './jobs/live.js';

wireFile();
wirePreview();
wireCategories();
wireMulti();
wireSuggest();
wireSettings();
wireStart();
wireEstimate();
wireActions();
wireList();
wireTables();
wireTokenButton(() => void refreshJobs());
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

updateCategoryCount();
void loadSettings();
void refreshJobs();
