import { describe, expect, it } from 'vitest';
import { withoutCredentials } from '../../cli/runtime.js';

describe('withoutCredentials', () => {
  it('drops a user name and password from a URL before it is shown', () => {
    expect(withoutCredentials('http://user:s3cret@llm.internal:8000/v1')).toBe('http://llm.internal:8000/v1');
    expect(withoutCredentials('http://127.0.0.1:8787/v1')).toBe('http://127.0.0.1:8787/v1');
    expect(withoutCredentials('not a url')).toBe('(an invalid URL)');
  });
});
