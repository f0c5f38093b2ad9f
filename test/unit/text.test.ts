import { describe, expect, it } from 'vitest';

import { isBlank, isInvalidAnswer, normalizeAnswer, truncate } from '../../domain/text.js';

describe('normalizeAnswer', () => {
  it('folds case, trims and collapses inner whitespace (tabs, line breaks, no-break spaces)', () => {
    expect(normalizeAnswer('  Too   EXPENSIVE\t\tfor\nme \u00A0 ')).toBe('too expensive for me');
  });

  it('applies NFKC, so full-width letters, ligatures and composed accents compare equal', () => {
    expect(normalizeAnswer('ＰＲＩＣＥ')).toBe('price');
    expect(normalizeAnswer('\uFB01ne')).toBe('fine'); // "ﬁ" ligature
    expect(normalizeAnswer('cafe\u0301')).toBe(normalizeAnswer('café'));
  });

  it('keeps different answers different', () => {
    expect(normalizeAnswer('too expensive')).not.toBe(normalizeAnswer('too expensive!'));
    expect(normalizeAnswer('a b')).not.toBe(normalizeAnswer('ab'));
  });
});

describe('isBlank', () => {
  it.each(['', ' ', '\t\n', '\u00A0'])('%j is blank', (text) => {
    expect(isBlank(text)).toBe(true);
  });
  it('text with a character is not blank', () => {
    expect(isBlank(' - ')).toBe(false);
  });
});

describe('isInvalidAnswer', () => {
  it.each([
    'n/a',
    'N/A',
    ' #N/A ',
    'NA',
    'n.a.',
    'null',
    'NULL',
    'undefined',
    'nan',
    '#VALUE!',
    '#DIV/0!',
    '...',
  ])('placeholder %j is invalid', (text) => {
    expect(isInvalidAnswer(text)).toBe(true);
  });

  it.each(['-', '—', '???', '!!!', '   ', '', '😀😀', '()'])('%j has no letter or digit: invalid', (text) => {
    expect(isInvalidAnswer(text)).toBe(true);
  });

  it.each(['ça', 'é', 'Ü', '日本', 'да', 'ok', 'no', 'x'])('%j has Unicode letters: valid', (text) => {
    expect(isInvalidAnswer(text)).toBe(false);
  });

  it.each(['5', '42', '0', '10/10', '-5', '٣'])(
    'digits-only answer %j is valid (a score is an answer)',
    (text) => {
      expect(isInvalidAnswer(text)).toBe(false);
    },
  );

  it('an ordinary sentence is valid, even one containing a placeholder word', () => {
    expect(isInvalidAnswer('n/a for me, the price is fine')).toBe(false);
    expect(isInvalidAnswer('nothing')).toBe(false);
  });
});

describe('truncate', () => {
  it('leaves text up to the limit untouched', () => {
    expect(truncate('abcde', 5)).toBe('abcde');
    expect(truncate('', 5)).toBe('');
  });

  it('cuts longer text to exactly the limit, ending with an ellipsis', () => {
    const out = truncate('abcdefghij', 5);
    expect(out).toBe('abcd…');
    expect(out).toHaveLength(5);
  });

  it('defaults to 80 characters', () => {
    expect(truncate('x'.repeat(80))).toBe('x'.repeat(80));
    expect(truncate('x'.repeat(81))).toBe(`${'x'.repeat(79)}…`);
  });
});
