/** `verbatim classify --by`: banners checked before anything starts, then a Tables sheet in the workbook. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { classifyCommand } from '../../cli/classify.js';
import { describeError } from '../../cli/errors.js';
import { BannerNotFoundError, InputProblemsError, InvalidBannerGroupsError } from '../../domain/errors.js';
import { makeAnswers, readOutput, writeSurvey } from '../helpers/survey.js';
import { startVerbatim } from '../helpers/processes.js';
import { temporalCliPath } from '../helpers/temporal.js';

let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-by-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const refusal = (argv: string[]) =>
  classifyCommand(argv).then(
    () => undefined,
    (e: unknown) => e,
  );

describe('verbatim classify --by', () => {
  it('refuses a banner column that is not in the sheet, and groups that do not read, before anything starts', async () => {
    const base = ['examples/customer-survey.xlsx', '--column', 'E2', '--categories', 'Price; Delivery'];
    const missing = await refusal([...base, '--by', 'Country', '--by', 'Regoin']);
    expect(missing).toBeInstanceOf(BannerNotFoundError);
    expect((missing as Error).message).toMatch(
      /^Banner column "Regoin" \(by\) not found in sheet "Responses" of customer-survey\.xlsx\. .*Columns: A "ID", B "Date", C "Country", D "D1"/,
    );
    // Every mistake in the columns at once, the column coded by hand named as such, estimate or not.
    for (const estimate of [[], ['--estimate']]) {
      const several = await refusal([...base, '--gold-column', 'QQ', '--by', 'Nope', ...estimate]);
      expect(several).toBeInstanceOf(InputProblemsError);
      expect((several as InputProblemsError).errors.map((e) => e.field)).toEqual(['goldColumn', 'by']);
      expect((several as Error).message).toMatch(/^Column coded by hand "QQ" \(goldColumn\) not found/);
      expect((several as Error).message).toContain('Banner column "Nope" (by) not found');
      // Printed one a line.
      expect(describeError(several)).toMatch(
        /^2 mistakes:\n {2}- Column coded by hand "QQ".*\n {2}- Banner column "Nope"/,
      );
    }
    const groups = await refusal([...base, '--by', 'D1=0-6,6-10']);
    expect(groups).toBeInstanceOf(InvalidBannerGroupsError);
    expect((groups as Error).message).toMatch(/groups 1 \("0-6"\) and 2 \("6-10"\) overlap/);
  });

  it('writes a Tables sheet: the codes by each banner, a numeric one in its named groups', async () => {
    const input = path.join(dir, 'survey.xlsx');
    const out = path.join(dir, 'survey.coded.xlsx');
    const answers = makeAnswers(44);
    await writeSurvey(input, answers);
    const args = ['--by', 'Country', '--by', 'Score=0-6:Detractors,7-8:Passives,9-10:Promoters'];
    // The command as a person types it, against the embedded server and the simulator.
    const classify = async (env: Record<string, string> = {}) =>
      startVerbatim(
        [
          'classify',
          input,
          '--column',
          'E2',
          '--categories',
          'Price; Delivery; Quality',
          ...args,
          '--out',
          out,
        ],
        {
          DATA_DIR: path.join(dir, 'data'),
          SIMULATOR_LATENCY_MS: '5',
          TEMPORAL_CLI_PATH: await temporalCliPath(),
          TEMPORAL_ADDRESS: '',
          OPENAI_API_KEY: '',
          ...env,
        },
      );
    const run = await classify();
    expect(await run.exited, run.output()).toBe(0);

    const tables = (await readOutput(out)).getWorksheet('Tables');
    if (!tables) throw new Error('no Tables sheet');
    const column = (header: string) => tables.getColumn(1).values.indexOf(header);
    const titles = [
      column('E2 by Country'),
      column('E2 by Score (0-6:Detractors,7-8:Passives,9-10:Promoters)'),
    ];
    expect(titles.every((t) => t > 0)).toBe(true);
    // Each title, an empty row, the header row, then the base (every answer of writeSurvey is coded).
    const bases = titles.map((t) => tables.getRow(t + 3).values as unknown[]);
    const scores = answers.map((_, i) => i % 11);
    const headers = titles.map((t) =>
      (tables.getRow(t + 2).values as unknown[]).filter((v) => typeof v === 'string'),
    );
    expect(headers[0]).toEqual(['Code', 'DE', '% DE', 'FR', '% FR', 'UK', '% UK', 'Total', '% Total']);
    expect(headers[1]).toEqual([
      'Code',
      'Detractors',
      '% Detractors',
      'Passives',
      '% Passives',
      'Promoters',
      '% Promoters',
      'Total',
      '% Total',
    ]);
    expect(bases[1]!.filter((v) => typeof v === 'number')).toEqual([
      scores.filter((s) => s <= 6).length,
      scores.filter((s) => s === 7 || s === 8).length,
      scores.filter((s) => s >= 9).length,
      answers.length,
    ]);

    // The same command through the Batch API finds the job coded, and says it keeps its mode.
    const again = await classify({ OPENAI_BATCH_API: 'true' });
    expect(await again.exited, again.output()).toBe(0);
    expect(again.output()).toMatch(/Already coded: job job-/);
    expect(again.output()).toContain('This job was started without the Batch API and keeps to it');
  }, 240_000);
});
