import { describe, expect, it } from 'vitest';
import { contentJobId, randomJobId } from '../../jobs/service.js';
import { testOptions } from '../helpers/harness.js';

const DEFAULTS = testOptions();

const bytes = new TextEncoder().encode('ID,E2\n1,too expensive\n');
const request = {
  column: 'E2',
  categories: [{ name: 'Price' }, { name: 'Delivery' }],
  options: DEFAULTS,
};

describe('contentJobId: the same file and settings resume the same job', () => {
  it('is stable for the same file and the settings that shape the labels', () => {
    expect(contentJobId(bytes, request)).toBe(contentJobId(bytes, { ...request }));
    expect(contentJobId(bytes, request)).toMatch(/^job-[0-9a-f]{20}$/);
    // Concurrency is left out: the same job resumes with more workers.
    expect(contentJobId(bytes, { ...request, options: { ...DEFAULTS, maxWorkers: 17 } })).toBe(
      contentJobId(bytes, request),
    );
  });

  it('differs for another file, column, categories or model', () => {
    const id = contentJobId(bytes, request);
    expect(contentJobId(new TextEncoder().encode('ID,E2\n1,late\n'), request)).not.toBe(id);
    expect(contentJobId(bytes, { ...request, column: 'E' })).not.toBe(id);
    expect(contentJobId(bytes, { ...request, categories: [{ name: 'Price' }] })).not.toBe(id);
    expect(contentJobId(bytes, { ...request, options: { ...DEFAULTS, model: 'gpt-4.1' } })).not.toBe(id);
  });

  it('keeps a dry run and a real run apart: who answers is part of the id, never the key', () => {
    const dry = contentJobId(bytes, { ...request, answeredBy: 'simulator' });
    const real = contentJobId(bytes, { ...request, answeredBy: 'openai' });
    const local = contentJobId(bytes, { ...request, answeredBy: 'http://127.0.0.1:8787/v1' });
    expect(new Set([dry, real, local]).size).toBe(3);
    // OpenAI, the usual case, keeps the ids of jobs started before dry runs were told apart.
    expect(real).toBe(contentJobId(bytes, request));
  });

  it('keeps the ids of jobs started before codes, nets and multi-code (recorded at f165fa8)', () => {
    const old = { column: 'E2', categories: [{ name: 'Price', description: 'cost' }, { name: 'Delivery' }] };
    expect(contentJobId(bytes, { ...old, options: DEFAULTS })).toBe('job-e30de6b3d0e2c42dcb08');
    expect(contentJobId(bytes, { ...old, options: DEFAULTS, answeredBy: 'simulator' })).toBe(
      'job-075cf09af0aba135e42c',
    );
    // Single-label with the new options at their defaults is the same job.
    expect(contentJobId(bytes, { ...old, options: { ...DEFAULTS, multi: false, maxCodes: 5 } })).toBe(
      'job-e30de6b3d0e2c42dcb08',
    );
  });

  it('differs for multi-code, and for another maximum of codes only in multi-code mode', () => {
    const id = contentJobId(bytes, request);
    const multi = contentJobId(bytes, { ...request, options: { ...DEFAULTS, multi: true } });
    expect(multi).not.toBe(id);
    // MAX_CODES unset means 5: the same job as 5 given.
    expect(contentJobId(bytes, { ...request, options: { ...DEFAULTS, multi: true, maxCodes: 5 } })).toBe(
      multi,
    );
    expect(contentJobId(bytes, { ...request, options: { ...DEFAULTS, multi: true, maxCodes: 3 } })).not.toBe(
      multi,
    );
    expect(contentJobId(bytes, { ...request, options: { ...DEFAULTS, maxCodes: 3 } })).toBe(id);
  });

  it('differs for another net or code (parsing drops codes that are the default numbering)', () => {
    const id = contentJobId(bytes, request);
    const netted = { ...request, categories: [{ name: 'Price', net: 'Money' }, { name: 'Delivery' }] };
    expect(contentJobId(bytes, netted)).not.toBe(id);
    const coded = {
      ...request,
      categories: [
        { name: 'Price', code: 5 },
        { name: 'Delivery', code: 1 },
      ],
    };
    expect(contentJobId(bytes, coded)).not.toBe(id);
  });

  it('random ids are unguessable and safe as path segments', () => {
    const ids = new Set(Array.from({ length: 100 }, () => randomJobId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^job-[A-Za-z0-9]{16}$/);
  });
});
