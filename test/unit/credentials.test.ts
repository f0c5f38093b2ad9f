import { describe, expect, it } from 'vitest';
import { createLlmEndpoint } from '../../activities/llm.js';
import { loadConfig } from '../../lib/config.js';
import { withoutCredentials } from '../../lib/urls.js';

describe('withoutCredentials', () => {
  it('drops a user name and password from a URL or an address before it is shown, the rest as typed', () => {
    expect(withoutCredentials('http://user:s3cret@llm.internal:8000/v1')).toBe('http://llm.internal:8000/v1');
    expect(withoutCredentials('https://u:p@ss@llm.internal/v1?x=a@b')).toBe('https://llm.internal/v1?x=a@b');
    expect(withoutCredentials('http://user:s3cret@llm internal/v1')).toBe('http://llm internal/v1');
    expect(withoutCredentials('user:s3cret@temporal:7233')).toBe('temporal:7233');
    expect(withoutCredentials('http://127.0.0.1:8787/v1')).toBe('http://127.0.0.1:8787/v1');
    expect(withoutCredentials('not a url')).toBe('not a url');
  });
});

describe('credentials in a base URL or an address are never shown', () => {
  it('the endpoint the Run sheet and the worker log show', () => {
    const llm = createLlmEndpoint({
      apiKey: 'k',
      baseURL: 'http://user:s3cret@127.0.0.1:9/v1',
      timeoutMs: 1_000,
    });
    expect(llm.endpoint).toBe('http://127.0.0.1:9/v1');
  });

  it('a configuration error about them', () => {
    let message = '';
    try {
      loadConfig({
        OPENAI_BASE_URL: 'http://user:s3cret@llm internal/v1',
        TEMPORAL_ADDRESS: 'http://u:s3cret@t:7233',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/OPENAI_BASE_URL.*"http:\/\/llm internal\/v1"/);
    expect(message).toMatch(/TEMPORAL_ADDRESS.*"http:\/\/t:7233"/);
    expect(message).not.toContain('s3cret');
  });
});
