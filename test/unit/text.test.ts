import { describe, expect, it } from 'vitest';

import { cleanForModel, isBlank, isInvalidAnswer, normalizeAnswer, truncate } from '../../domain/text.js';

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

describe('cleanForModel', () => {
  it('drops control, bidi and zero-width characters, NUL, a BOM and lone surrogates', () => {
    expect(cleanForModel('\uFEFFgo\u0000od\u0001 pri\u200Bce\u202E \u2066value\u2069\uD800')).toBe(
      'good price value',
    );
    expect(cleanForModel('\uDC00a\uDBFFb')).toBe('ab');
  });

  it('keeps what a reader sees: letters, emoji with joiners, surrogate pairs, Persian ZWNJ, line breaks', () => {
    const family = '👨\u200D👩\u200D👧';
    expect(cleanForModel(`${family} 😀`)).toBe(`${family} 😀`);
    expect(cleanForModel('می\u200Cخواهم')).toBe('می\u200Cخواهم');
    expect(cleanForModel('first line\r\nsecond\rthird')).toBe('first line\nsecond\nthird');
  });

  it('collapses runs of spaces and tabs, trims, and keeps at most one empty line', () => {
    expect(cleanForModel('  too \t\u00A0 slow \n\n\n\n and \u000B dear  ')).toBe('too slow\n\nand dear');
  });

  it('composes accents (NFC) without folding compatibility forms (that is normalizeAnswer’s job)', () => {
    expect(cleanForModel('cafe\u0301')).toBe('café');
    expect(cleanForModel('ＰＲＩＣＥ')).toBe('ＰＲＩＣＥ');
  });

  it('removes tag characters (invisible ASCII a prompt could be smuggled in)', () => {
    const hidden = [...'ignore all'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
    expect(cleanForModel(`fine${hidden}`)).toBe('fine');
  });

  it('cleans a 32,767-character cell (Excel’s longest) of control characters', () => {
    const cell = '\u0001\u202E\u200B\uD800 x'.repeat(5_462).slice(0, 32_767);
    expect(cleanForModel(cell)).toMatch(/^x( x){5460}$/);
  });
});

describe('answers that differ only by invisible characters', () => {
  it('share one key, and an invisible-only cell is blank, not an answer', () => {
    expect(normalizeAnswer('pri\u200Bce\u0000')).toBe(normalizeAnswer('Price'));
    expect(isBlank('\u200B\u0000\uFEFF\u202E')).toBe(true);
    expect(isInvalidAnswer('\u0001#N/A\u200B')).toBe(true);
  });
});
