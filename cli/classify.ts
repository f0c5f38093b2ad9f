import fs from 'node:fs/promises';
import path from 'node:path';
import type { Category } from '../domain/categories.js';
import type { JobSpec } from '../domain/job.js';
import { parseCategories } from '../domain/categories.js';
import { writeJobSav } from '../activities/export-sav.js';
import { estimateJob } from '../activities/plan-job.js';
import { InputFileNotFoundError, throwProblems } from '../domain/errors.js';
import { MAX_EXAMPLES_FROM_GOLD } from '../domain/examples.js';
import { agreementLine, notComparedLine } from '../domain/quality.js';
import { formatCost } from '../domain/cost.js';
import { priceFor } from '../domain/prices.js';
import { inspectColumn, readCodeframeFile } from '../sheets/index.js';
import { sheetFormatOf } from '../domain/sheet-format.js';
import type { EnvVariable, SettingNames } from '../lib/config.js';
import { loadConfig, loadDotEnv } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { estimateBlock, statsBlock } from './format.js';
import { UsageError } from './errors.js';
import { runSession } from './session.js';
import { columnProblems } from '../jobs/service.js';
import { waitForResult, watchProgress } from './watch.js';
import { parseFlags } from './args.js';

export const CLASSIFY_HELP = `Usage: verbatim classify <survey.xlsx|survey.csv> --column <E2|E|question text> (--categories-file <file> | --categories "A; B; C") [options]

Codes every answer of one column into the given categories and writes the coded workbook.
Run the same command again after an interruption (even kill -9): the job resumes where it stopped.

Options (each overrides its environment variable):
  --column, -c <text>        answer column: header text (E2), column letter (E), or the question text
  --categories-file <file>   the codeframe: a text file, one category per line ("Name",
                             "Name: description", "101 Name: description"; "[Net name]" starts a
                             net), or an .xlsx/.csv table with columns code, label, description, net
  --categories <list>        categories separated by ";" or new lines (instead of a file)
  --multi                    every category that applies to an answer, not one (MULTI_CODE=true);
                             adds a 0/1 column per category and per net
  --max-codes <n>            the most categories an answer keeps with --multi (MAX_CODES, default 5)
  --gold-column <text>       a column coded by hand (header, letter or question): the model codes
                             those rows blind and the Quality and Review sheets compare the two
  --by <column[=groups]>     a banner for the Tables sheet: the codes crossed with this column's
                             values (header, letter or question), with column % and significance;
                             repeat for several; group a numeric column by ranges:
                             --by "NPS=0-6:Detractors,7-8:Passives,9-10:Promoters" (or "NPS=nps")
  --examples-from-gold <n>   with --gold-column: up to n hand-coded answers per category go into the
                             instructions as examples (those rows are left out of the agreement)
  --review-model <name>      a second model (REVIEW_MODEL, e.g. gpt-4.1) codes again the answers
                             under REVIEW_BELOW; its label is kept
  --sheet, -s <name|index>   sheet name or 1-based index (default: the first sheet)
  --question <text>          the survey question, when the header does not say it
  --out, -o <file>           output .xlsx, .csv or .sav (SPSS); default: <input>.coded.xlsx beside
                             the input
  --batch-size <n|auto>      answers per request (BATCH_SIZE, default 100)
  --batch-api                through OpenAI's Batch API: half price, done within 24 hours
                             (OPENAI_BATCH_API=true); the job waits durably, resumable as ever
  --concurrency <n>          batches in flight (PARALLEL_MAX_WORKERS, default 5)
  --no-parallel              one batch at a time (ENABLE_PARALLEL_PROCESSING=false)
  --model <name>             OPENAI_MODEL (default gpt-4o-mini)
  --temperature <t>          OPENAI_TEMPERATURE (default 0.1)
  --max-cost <usd>           hold any request that would take the job's cost over this (MAX_COST);
                             raise it: run the command again with a higher --max-cost (the job
                             resumes), or PATCH /jobs/<id> {"maxCost": …}
  --estimate                 print the requests, tokens and cost the job would take, then stop:
                             nothing is sent to the model and no job starts
  --help, -h                 this help
`;

export async function classifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags({
    args: argv,
    allowPositionals: true,
    options: {
      column: { type: 'string', short: 'c' },
      'gold-column': { type: 'string' },
      by: { type: 'string', multiple: true },
      'examples-from-gold': { type: 'string' },
      'review-model': { type: 'string' },
      'categories-file': { type: 'string' },
      categories: { type: 'string' },
      sheet: { type: 'string', short: 's' },
      question: { type: 'string' },
      out: { type: 'string', short: 'o' },
      'batch-size': { type: 'string' },
      concurrency: { type: 'string' },
      'no-parallel': { type: 'boolean' },
      model: { type: 'string' },
      temperature: { type: 'string' },
      multi: { type: 'boolean' },
      'batch-api': { type: 'boolean' },
      'max-codes': { type: 'string' },
      'max-cost': { type: 'string' },
      estimate: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(CLASSIFY_HELP);
    return 0;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError('give exactly one input file', CLASSIFY_HELP);
  if (!values.column)
    throw new UsageError(
      '--column is required (a header such as E2, a letter, or the question)',
      CLASSIFY_HELP,
    );
  if (!values['categories-file'] && !values.categories) {
    throw new UsageError(
      'give the categories with --categories-file <file> or --categories "A; B"',
      CLASSIFY_HELP,
    );
  }

  const examples = values['examples-from-gold'];
  if (examples !== undefined) {
    if (!/^\d+$/.test(examples) || Number(examples) < 1 || Number(examples) > MAX_EXAMPLES_FROM_GOLD) {
      throw new UsageError(
        `--examples-from-gold must be a whole number from 1 to ${MAX_EXAMPLES_FROM_GOLD}, got ${JSON.stringify(examples)}`,
        CLASSIFY_HELP,
      );
    }
    if (values['gold-column'] === undefined) {
      throw new UsageError(
        '--examples-from-gold needs --gold-column (the answers coded by hand)',
        CLASSIFY_HELP,
      );
    }
  }

  loadDotEnv();
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Each flag sets its variable; a bad value is reported under the flag's name, as the person typed it.
  const flags: [EnvVariable, string, string | undefined][] = [
    ['BATCH_SIZE', '--batch-size', values['batch-size']],
    ['PARALLEL_MAX_WORKERS', '--concurrency', values.concurrency],
    ['ENABLE_PARALLEL_PROCESSING', '--no-parallel', values['no-parallel'] ? 'false' : undefined],
    ['OPENAI_MODEL', '--model', values.model],
    ['OPENAI_TEMPERATURE', '--temperature', values.temperature],
    ['MULTI_CODE', '--multi', values.multi ? 'true' : undefined],
    ['OPENAI_BATCH_API', '--batch-api', values['batch-api'] ? 'true' : undefined],
    ['MAX_CODES', '--max-codes', values['max-codes']],
    ['MAX_COST', '--max-cost', values['max-cost']],
    ['REVIEW_MODEL', '--review-model', values['review-model']],
  ];
  const names: SettingNames = {};
  for (const [key, flag, value] of flags) {
    if (value === undefined) continue;
    env[key] = value;
    names[key] = flag;
  }
  if (!env.LOG_LEVEL) env.LOG_LEVEL = 'warn';
  const config = loadConfig(env, process.cwd(), names);
  // Refused, as the API refuses maxCodes without multi: a limit on codes per answer must not switch the
  // coding mode (the output's columns, the cost) on its own, and a forgotten --multi is better said than guessed.
  if (values['max-codes'] !== undefined && !config.job.multi) {
    throw new UsageError(
      `--max-codes ${values['max-codes']} applies only with --multi (several categories per answer; or MULTI_CODE=true): add --multi, or drop --max-codes`,
      CLASSIFY_HELP,
    );
  }
  const options = examples !== undefined ? { ...config.job, examplesFromGold: Number(examples) } : config.job;

  const inputPath = path.resolve(file);
  await fs.access(inputPath).catch(() => {
    throw new InputFileNotFoundError(file);
  });
  const categories = await readCategories(values['categories-file'], values.categories);
  // Sheet and columns are checked from the top of the file before anything starts (or is estimated): the
  // column, the column coded by hand and each banner, every mistake named at once, as the API does.
  const by = values.by ?? [];
  const problems = await columnProblems(inspectColumn, {
    path: inputPath,
    displayName: path.basename(inputPath),
    format: sheetFormatOf(inputPath),
    ...(values.sheet !== undefined ? { sheet: values.sheet } : {}),
    column: values.column,
    ...(values['gold-column'] !== undefined ? { goldColumn: values['gold-column'] } : {}),
    by,
  });
  throwProblems(problems);
  if (config.job.maxCost !== undefined && !priceFor(config.job.model, config.job.prices)) {
    throw new UsageError(
      `${names.MAX_COST ?? 'MAX_COST'}: the model ${config.job.model} has no price in verbatim's table; set OPENAI_PRICE_INPUT and OPENAI_PRICE_OUTPUT (USD per million tokens) to cap its cost`,
      CLASSIFY_HELP,
    );
  }
  const { reviewModel } = config.job;
  if (config.job.maxCost !== undefined && reviewModel && !priceFor(reviewModel)) {
    throw new UsageError(
      `${names.MAX_COST ?? 'MAX_COST'}: the review model ${reviewModel} has no price in verbatim's table; its requests cannot be held at a cost cap`,
      CLASSIFY_HELP,
    );
  }
  if (values.estimate) {
    const estimate = await estimateJob({
      path: inputPath,
      fileName: path.basename(inputPath),
      format: sheetFormatOf(inputPath),
      column: values.column,
      ...(values.sheet !== undefined ? { sheet: values.sheet } : {}),
      ...(values['gold-column'] !== undefined ? { goldColumn: values['gold-column'] } : {}),
      ...(values.question !== undefined ? { question: values.question } : {}),
      categories,
      options,
    });
    process.stdout.write(estimateBlock(estimate, path.basename(inputPath), values.column));
    return 0;
  }
  const outPath = path.resolve(values.out ?? defaultOutPath(inputPath));
  // Narrowed here, for the session's callback.
  const column = values.column;

  const logger = createLogger(config.logLevel, 'verbatim-cli');
  // On a terminal the progress bar is redrawn in place: a line said meanwhile must start a clean line.
  const say = (line: string) => process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[2K' : ''}${line}\n`);
  const session = {
    config,
    logger,
    say,
    stopping: 'Stopping. The job keeps what is done: run the same command again to resume.',
    workerStopped: 'the worker stopped before the job ended',
  };
  return runSession(session, async ({ runtime, abandon, outcome }) => {
    const started = await runtime.jobs.create({
      fileName: path.basename(inputPath),
      source: { path: inputPath },
      column: column,
      ...(values['gold-column'] !== undefined ? { goldColumn: values['gold-column'] } : {}),
      ...(by.length > 0 ? { by } : {}),
      ...(values.sheet !== undefined ? { sheet: values.sheet } : {}),
      ...(values.question !== undefined ? { question: values.question } : {}),
      categories,
      options,
      idFrom: 'content',
      answeredBy: config.openai.baseURL ?? (config.openai.apiKey ? 'openai' : 'simulator'),
    });
    // The CLI's ids come from the content: the same command finds its job as running or completed.
    const verb = {
      started: 'Started',
      running: 'Resuming',
      completed: 'Already coded:',
      duplicate: 'Already coded:',
    }[started.state];
    say(
      `${verb} job ${started.jobId} (${path.basename(inputPath)}, column ${column}) on ${runtime.temporalAddress}`,
    );
    // The mode of calling (Batch API or not) does not change the codes, so it is not part of the id: a job
    // found keeps the mode it was started with, and says so when this command asked for the other.
    if (started.state !== 'started') {
      // Only a notice: a job.json unreadable here says nothing, and the job goes on.
      const spec = await runtime.store
        .readJsonIfExists<JobSpec>(runtime.store.file(started.jobId, 'job.json'))
        .catch(() => undefined);
      const was = spec?.options.batchApi === true;
      if (spec && was !== (options.batchApi === true)) {
        say(
          `This job was started ${was ? 'through' : 'without'} the Batch API and keeps to it (the mode does not change the codes).`,
        );
      }
    }
    // The same command again with another --max-cost: the running job takes the new cap.
    if (started.state === 'running' && names.MAX_COST) {
      await runtime.jobs.setMaxCost(started.jobId, config.job.maxCost ?? null);
      say(`Cost cap set to ${formatCost(config.job.maxCost)}.`);
    }
    const ended = outcome(waitForResult(started.handle, abandon));
    const progress = await watchProgress(started.handle, process.stderr, ended);
    const final = await ended;
    const ext = path.extname(outPath).toLowerCase();
    await fs.mkdir(path.dirname(outPath), { recursive: true });
    // The SPSS file is made from the job's stored output when asked, as the API makes it.
    const made =
      ext === '.sav'
        ? (await writeJobSav(runtime.store, started.jobId)).path
        : runtime.store.file(started.jobId, ext === '.csv' ? final.output.csv : final.output.xlsx);
    await fs.copyFile(made, outPath);
    process.stdout.write(
      statsBlock(final.stats, final.progress ?? progress, outPath, (final.progress ?? progress).simulated),
    );
    if (final.quality) {
      process.stdout.write(`${agreementLine(final.quality)}\n`);
      const left = notComparedLine(final.quality);
      if (left) process.stdout.write(`${left}\n`);
    }
    return 0;
  });
}

async function readCategories(file: string | undefined, inline: string | undefined): Promise<Category[]> {
  if (file) return readCodeframeFile(path.resolve(file), file);
  return parseCategories((inline ?? '').split(';').join('\n'), '--categories');
}

export function defaultOutPath(inputPath: string): string {
  const ext = path.extname(inputPath);
  return path.join(path.dirname(inputPath), `${path.basename(inputPath, ext)}.coded.xlsx`);
}
