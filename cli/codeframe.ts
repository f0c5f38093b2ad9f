import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CodeframeSettings } from '../domain/codeframe-job.js';
import { codeframeSettings, parseSettingNumber } from '../domain/codeframe-job.js';
import { DomainError, InputFileNotFoundError } from '../domain/errors.js';
import { sheetFormatOf } from '../domain/sheet-format.js';
import type { CodeframeHandle } from '../jobs/codeframes.js';
import { loadConfig, loadDotEnv } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { inspectColumn } from '../sheets/index.js';
import type { BuildCodeframeResult } from '../workflows/codeframe-definitions.js';
import { codeframeProgressQuery } from '../workflows/codeframe-definitions.js';
import { codeframeProgressLine, codeframeTable } from './codeframe-format.js';
import { UsageError } from './errors.js';
import { runSession } from './session.js';
import { waitForResult } from './watch.js';
import { parseFlags } from './args.js';

export const CODEFRAME_HELP = `Usage: verbatim codeframe <survey.xlsx|survey.csv> --column <E2|E|question text> [options]

Drafts a codeframe from the answers of one column: the model reads the answers for themes, merges them
into at most --max-codes codes (label, one-sentence description, nets for related codes), and codes a
sample of answers with the draft to estimate each code's share and the coverage. Prints the table and
writes the categories file that \`verbatim classify --categories-file\` reads, and a table beside it
(.xlsx) with up to three example answers per code. Run the same command again after an interruption
(even kill -9): the draft resumes where it stopped.

Options:
  --column, -c <text>        answer column: header text (E2), column letter (E), or the question text
  --sheet, -s <name|index>   sheet name or 1-based index (default: the first sheet)
  --question <text>          the survey question, when the header does not say it
  --out, -o <file.txt>       the categories file (default: <input>.categories.txt beside the input);
                             the table goes beside it, as <name>.xlsx
  --force                    overwrite files already at --out (they may hold your edits), never the input
  --max-codes <n>            at most this many codes besides Other (default 25)
  --min-share <fraction>     codes under this share of answers fold into Other (default 0.01, i.e. 1 %)
  --read-cap <n>             unique answers read for themes, beyond it a sample weighted by how often
                             each answer occurs (default 2000)
  --read-tokens <n>          tokens of answers read for themes, so long answers cost no more requests
                             (default 200000: at most ~32 theme-extraction requests)
  --measure-sample <n>       answers coded to estimate the shares and the coverage (default 400)
  --seed <n>                 seeds both samples (default 1): the same seed reads the same answers
  --concurrency <n>          requests in flight (PARALLEL_MAX_WORKERS, default 5)
  --model <name>             OPENAI_MODEL (default gpt-4o-mini)
  --temperature <t>          OPENAI_TEMPERATURE (default 0.1)
  --help, -h                 this help
`;

const SETTING_FLAGS = {
  'max-codes': 'maxCodes',
  'min-share': 'minShare',
  'read-cap': 'readCap',
  'read-tokens': 'readTokens',
  'measure-sample': 'measureSample',
  seed: 'seed',
} as const satisfies Record<string, keyof CodeframeSettings>;

export async function codeframeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags({
    args: argv,
    allowPositionals: true,
    options: {
      column: { type: 'string', short: 'c' },
      sheet: { type: 'string', short: 's' },
      question: { type: 'string' },
      out: { type: 'string', short: 'o' },
      force: { type: 'boolean' },
      'max-codes': { type: 'string' },
      'min-share': { type: 'string' },
      'read-cap': { type: 'string' },
      'read-tokens': { type: 'string' },
      'measure-sample': { type: 'string' },
      seed: { type: 'string' },
      concurrency: { type: 'string' },
      model: { type: 'string' },
      temperature: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(CODEFRAME_HELP);
    return 0;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError('give exactly one input file', CODEFRAME_HELP);
  if (!values.column) {
    throw new UsageError(
      '--column is required (a header such as E2, a letter, or the question)',
      CODEFRAME_HELP,
    );
  }
  const given: Partial<Record<keyof CodeframeSettings, number>> = {};
  for (const [flag, key] of Object.entries(SETTING_FLAGS)) {
    const text = values[flag as keyof typeof SETTING_FLAGS];
    if (text !== undefined) given[key] = parseSettingNumber(flag, text);
  }
  const settings = codeframeSettings(given);

  loadDotEnv();
  const env: NodeJS.ProcessEnv = { ...process.env };
  const flagEnv: Record<string, string | undefined> = {
    PARALLEL_MAX_WORKERS: values.concurrency,
    OPENAI_MODEL: values.model,
    OPENAI_TEMPERATURE: values.temperature,
  };
  for (const [key, value] of Object.entries(flagEnv)) if (value !== undefined) env[key] = value;
  if (!env.LOG_LEVEL) env.LOG_LEVEL = 'warn';
  const config = loadConfig(env);

  const inputPath = path.resolve(file);
  await fs.access(inputPath).catch(() => {
    throw new InputFileNotFoundError(file);
  });
  await inspectColumn({
    path: inputPath,
    displayName: path.basename(inputPath),
    format: sheetFormatOf(inputPath),
    column: values.column,
    ...(values.sheet !== undefined ? { sheet: values.sheet } : {}),
  });
  const { txt, xlsx } = outPaths(inputPath, values.out);
  // Even with --force: the survey itself is never a draft to overwrite.
  await refuseToOverwriteInput(inputPath, [txt, xlsx]);
  if (!values.force) await refuseToOverwrite([txt, xlsx]);

  const logger = createLogger(config.logLevel, 'verbatim-cli');
  const say = (line: string) => process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[2K' : ''}${line}\n`);
  const session = {
    config,
    logger,
    say,
    stopping: 'Stopping. The draft keeps what is done: run the same command again to resume.',
    workerStopped: 'the worker stopped before the draft was done',
  };
  const column = values.column;
  return runSession(session, async ({ runtime, abandon, outcome }) => {
    const fileName = path.basename(inputPath);
    const started = await runtime.codeframes.create({
      fileName,
      source: { path: inputPath },
      column: column,
      ...(values.sheet !== undefined ? { sheet: values.sheet } : {}),
      ...(values.question !== undefined ? { question: values.question } : {}),
      settings,
      options: config.job,
      idFrom: 'content',
      answeredBy: config.openai.baseURL ?? (config.openai.apiKey ? 'openai' : 'simulator'),
    });
    const verb = { started: 'Started', running: 'Resuming', completed: 'Already drafted:' }[started.state];
    say(
      `${verb} codeframe ${started.codeframeId} (${fileName}, column ${column}) on ${runtime.temporalAddress}`,
    );
    const ended = outcome(waitForResult<BuildCodeframeResult>(started.handle, abandon));
    await watchCodeframe(started.handle, ended);
    const final = await ended;
    await fs.mkdir(path.dirname(txt), { recursive: true });
    await fs.copyFile(runtime.store.file(started.codeframeId, final.files.txt), txt);
    await fs.copyFile(runtime.store.file(started.codeframeId, final.files.xlsx), xlsx);
    const report = await runtime.codeframes.report(started.codeframeId);
    const shown = (p: string) => {
      const relative = path.relative(process.cwd(), p);
      return relative && !relative.startsWith('..') ? relative : p;
    };
    process.stdout.write(
      codeframeTable(report, {
        columns: process.stdout.isTTY ? process.stdout.columns || 120 : 160,
        seconds: final.progress.elapsedSeconds,
        calls: final.progress.calls,
        tokens: final.progress.tokens.total,
        txt: shown(txt),
        xlsx: shown(xlsx),
        next: `verbatim classify ${quote(shown(inputPath))} --column ${quote(column)}${values.sheet !== undefined ? ` --sheet ${quote(values.sheet)}` : ''} --categories-file ${quote(shown(txt))}`,
      }),
    );
    return 0;
  });
}

/** The categories file and the table beside it: `--out` names the text file. */
export function outPaths(inputPath: string, out: string | undefined): { txt: string; xlsx: string } {
  const txt = path.resolve(out ?? defaultOutPath(inputPath));
  const ext = path.extname(txt).toLowerCase();
  if (ext === '.xlsx' || ext === '.csv' || ext === '.xls') {
    throw new DomainError(
      'invalid_out',
      `--out names the categories text file (e.g. categories.txt); the .xlsx table is written beside it`,
      'out',
    );
  }
  return { txt, xlsx: path.join(path.dirname(txt), `${path.basename(txt, path.extname(txt))}.xlsx`) };
}

export function defaultOutPath(inputPath: string): string {
  const ext = path.extname(inputPath);
  return path.join(path.dirname(inputPath), `${path.basename(inputPath, ext)}.categories.txt`);
}

/**
 * The files written must not be the input: `--out survey.txt` puts the table at `survey.xlsx`, and a CSV
 * read from `answers.txt` is itself a `.txt`. Compared by real path (symbolic links and `..` resolved).
 */
async function refuseToOverwriteInput(inputPath: string, files: readonly string[]): Promise<void> {
  const input = await realPath(inputPath);
  for (const f of files) {
    if ((await realPath(f)) !== input) continue;
    throw new DomainError(
      'out_is_input',
      `--out would write ${f}, which is the input file ${inputPath} (the categories go to the .txt, the ` +
        `table beside it as .xlsx): pass another --out, such as ${defaultOutPath(inputPath)}; --force never ` +
        `overwrites the input`,
      'out',
    );
  }
}

/** A path with its links resolved; for a file not there yet, its folder's real path and its name. */
async function realPath(p: string): Promise<string> {
  try {
    return await fs.realpath(p);
  } catch {
    const dir = await fs.realpath(path.dirname(p)).catch(() => path.dirname(p));
    return path.join(dir, path.basename(p));
  }
}

/** A draft is edited by hand: never overwritten unless asked. */
async function refuseToOverwrite(files: readonly string[]): Promise<void> {
  for (const f of files) {
    const exists = await fs.access(f).then(
      () => true,
      () => false,
    );
    if (exists) {
      throw new DomainError(
        'out_exists',
        `${f} already exists (your edits?): pass --force to overwrite it, or --out another name`,
        'out',
      );
    }
  }
}

/** Shows the draft's progress until it ends: redrawn in place on a terminal, a line per change otherwise. */
async function watchCodeframe(handle: CodeframeHandle, done: Promise<BuildCodeframeResult>): Promise<void> {
  const stream = process.stderr;
  const tty = stream.isTTY === true;
  let finished = false;
  let lastKey = '';
  void done.finally(() => (finished = true)).catch(() => {});
  while (!finished) {
    try {
      const p = await handle.query(codeframeProgressQuery);
      const line = codeframeProgressLine(p);
      if (tty) stream.write(`\r\x1b[2K${line.slice(0, (stream.columns || 120) - 1)}`);
      else {
        // One line when the phase or the steps done change, not one per poll.
        const key = `${p.phase} ${p.chunks.done} ${p.merge.calls} ${p.measure.done}`;
        if (key !== lastKey) stream.write(`${line}\n`);
        lastKey = key;
      }
    } catch {
      // No worker has answered the query yet: try again shortly.
    }
    await Promise.race([done.catch(() => {}), sleep(tty ? 400 : 1_000)]);
  }
  if (tty) stream.write('\n');
}

function quote(s: string): string {
  return /^[\w./@:=+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}
