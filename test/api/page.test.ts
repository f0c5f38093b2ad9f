import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../api/app.js';
import type { FakeApi } from './helpers.js';
import { createFakeApi } from './helpers.js';

/** The web page and the files it loads (api/public), served beside the API without a token. */

const PUBLIC_DIR = path.resolve(import.meta.dirname, '../../api/public');
/** The page, and the modules and style sheets it loads (not its type-checking files: *.d.ts, tsconfig.json). */
const FILES = readdirSync(PUBLIC_DIR, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && !e.name.startsWith('.') && /(^index\.html|\.js|\.css)$/.test(e.name))
  .map((e) => path.relative(PUBLIC_DIR, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
const TYPES: Record<string, RegExp> = {
  '.html': /^text\/html; charset=utf-8$/,
  '.js': /^text\/javascript; charset=utf-8$/,
  '.mjs': /^text\/javascript; charset=utf-8$/,
  '.css': /^text\/css; charset=utf-8$/,
  '.svg': /^image\/svg\+xml/,
  '.png': /^image\/png$/,
  '.ico': /^image\/x-icon$/,
  '.json': /^application\/json/,
};

let api: FakeApi;
let locked: App;
beforeAll(async () => {
  api = await createFakeApi();
  locked = api.makeApp({ apiToken: 'page-test-token' });
});
afterAll(async () => {
  await api?.close();
});

describe('the web page', () => {
  it.each(FILES)('serves %s, public, with its type and no-cache', async (file) => {
    const pathname = file === 'index.html' ? '/' : `/${file}`;
    for (const app of [api.app, locked]) {
      const response = await app.request(pathname);
      expect(response.status).toBe(200);
      const type = TYPES[path.extname(file)];
      if (type) expect(response.headers.get('content-type')).toMatch(type);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(Buffer.from(await response.arrayBuffer())).toEqual(readFileSync(path.join(PUBLIC_DIR, file)));
    }
  });

  it('reads nothing outside api/public, however the path climbs', async () => {
    const outside = [
      '/../package.json',
      '/..%2fpackage.json',
      '/%2e%2e/package.json',
      '/%2e%2e%2fpackage.json',
      '/..%5cpackage.json',
      '/js/main.js/../../../package.json',
      '/style.css/..%2f..%2fapp.ts',
      '/js/..%2f..%2fapp.ts',
      '/./../api/app.ts',
      '//etc/passwd',
      '/%2fetc%2fpasswd',
      '/api/public/index.html',
      '/public/js/main.js',
      '/index.html',
      '/tsconfig.json',
      '/js/types.d.ts',
      '/js/main.js%00.txt',
    ];
    for (const pathname of outside) {
      const response = await api.app.request(pathname);
      expect(response.status, pathname).toBe(404);
      expect(response.headers.get('content-type'), pathname).toMatch(/^application\/problem\+json/);
      const locked401 = await locked.request(pathname);
      expect(locked401.status, pathname).toBe(401);
    }
  });
});
