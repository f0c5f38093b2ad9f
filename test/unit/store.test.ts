import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { JobNotFoundError } from '../../domain/errors.js';
import { tempName, writeAtomically } from '../../lib/atomic-write.js';
import { JobStore, isValidJobId } from '../../lib/store.js';
import { pieceKey } from '../../domain/salvage.js';

let dataDir: string;
let store: JobStore;
beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-store-'));
  store = new JobStore(dataDir);
});
afterAll(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

const BAD_IDS = [
  '',
  '.',
  '..',
  '...',
  '../etc',
  '../../passwd',
  'a/b',
  'abc/',
  '/abs',
  'a\\b',
  '..\\x',
  'job\0id',
  'job id',
  'job.json',
  '-leading-dash',
  'ab',
  'x'.repeat(101),
  'jöb-123',
];

describe('isValidJobId', () => {
  it.each(['job-123', 'abc', 'A1_b-2', 'a'.repeat(100), '20250101-abcdef'])('accepts %j', (id) => {
    expect(isValidJobId(id)).toBe(true);
  });

  it.each(BAD_IDS)('rejects %j', (id) => {
    expect(isValidJobId(id)).toBe(false);
  });
});

describe('JobStore paths', () => {
  it('keeps every job under DATA_DIR/jobs/<id>', () => {
    expect(store.dir('job-123')).toBe(path.join(dataDir, 'jobs', 'job-123'));
    expect(store.batchFile('job-123', 7)).toBe(
      path.join(dataDir, 'jobs', 'job-123', 'batches', '000007.json'),
    );
    expect(store.resultFile('job-123', 12)).toBe(
      path.join(dataDir, 'jobs', 'job-123', 'results', '000012.json'),
    );
  });

  it.each(BAD_IDS)('throws JobNotFoundError for %j: no path outside the job folder', (id) => {
    expect(() => store.dir(id)).toThrow(JobNotFoundError);
    expect(() => store.file(id, 'job.json')).toThrow(JobNotFoundError);
    expect(() => store.batchFile(id, 0)).toThrow(JobNotFoundError);
  });

  it('rejects a bad id in the async methods too, before touching the disk', async () => {
    await expect(store.readJson('../x', 'job.json')).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(store.remove('..')).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(fs.access(dataDir)).resolves.toBeUndefined();
  });

  it('reports a missing job as JobNotFoundError', async () => {
    await expect(store.readJson('no-such-job', 'job.json')).rejects.toBeInstanceOf(JobNotFoundError);
  });
});

describe('writeJson', () => {
  it('writes, overwrites and reads back, leaving no temp file', async () => {
    const file = store.file('job-write', 'job.json');
    await store.writeJson(file, { a: 1 });
    await store.writeJson(file, { a: 2, b: 'ü' });
    expect(await store.readJson('job-write', 'job.json')).toEqual({ a: 2, b: 'ü' });
    expect(await fs.readdir(path.dirname(file))).toEqual(['job.json']);
  });

  it('never lets a reader see a partial file', async () => {
    const file = store.resultFile('job-atomic', 0);
    const big = (tag: string) => ({
      tag,
      rows: Array.from({ length: 25_000 }, (_, i) => ({ i, label: `label ${i}` })),
    });
    await store.writeJson(file, big('old'));
    let writing = true;
    const seen = new Set<string>();
    let reads = 0;
    const reader = (async () => {
      while (writing) {
        const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as { tag: string; rows: unknown[] };
        expect(parsed.rows).toHaveLength(25_000);
        seen.add(parsed.tag);
        reads += 1;
      }
    })();
    for (let k = 0; k < 4; k += 1) await store.writeJson(file, big(`new-${k}`));
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toMatchObject({ tag: 'new-3' });
    expect((await fs.readdir(path.dirname(file))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('concurrent writers of the same file leave one whole value and no temp files', async () => {
    const file = store.file('job-race', 'result.json');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.writeJson(file, { writer: i, pad: 'x'.repeat(10_000) })),
    );
    const final = JSON.parse(await fs.readFile(file, 'utf8')) as { writer: number; pad: string };
    // One writer's whole value, not a mix of two.
    expect(Array.from({ length: 20 }, (_, i) => i)).toContain(final.writer);
    expect(final.pad).toBe('x'.repeat(10_000));
    expect(await fs.readdir(path.dirname(file))).toEqual(['result.json']);
  });

  it('writeJsonOnce: of writers racing for one file, exactly one writes it, and it is never replaced', async () => {
    const file = store.pieceFile('job-once', 3, pieceKey(['2', '5']));
    const wrote = await Promise.all(
      Array.from({ length: 20 }, (_, writer) => store.writeJsonOnce(file, { writer })),
    );
    expect(wrote.filter(Boolean)).toHaveLength(1);
    const winner = wrote.indexOf(true);
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual({ writer: winner });
    expect(await store.writeJsonOnce(file, { writer: 99 })).toBe(false);
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual({ writer: winner });
    // No temp file left behind.
    expect(await fs.readdir(path.dirname(file))).toEqual([path.basename(file)]);
    expect(path.relative(store.dir('job-once'), file)).toBe(
      path.join('pieces', '000003', `${pieceKey(['5', '2'])}.json`),
    );
    expect(() => store.pieceFile('job-once', 3, '../x')).toThrow(/not a piece key/);
  });

  it('writeAtomically writes bytes, and temp names are siblings unique per call', async () => {
    const file = path.join(dataDir, 'raw', 'out.bin');
    await writeAtomically(file, (tmp) => fs.writeFile(tmp, new Uint8Array([1, 2, 3])));
    expect([...(await fs.readFile(file))]).toEqual([1, 2, 3]);
    const a = tempName(file);
    const b = tempName(file);
    expect(a).not.toBe(b);
    expect(path.dirname(a)).toBe(path.dirname(file));
    expect(a.startsWith(`${file}.`)).toBe(true);
    expect(a.endsWith('.tmp')).toBe(true);
  });
});
