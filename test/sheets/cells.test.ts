import { describe, expect, it } from 'vitest';

import { cellKind, cellText, textKind } from '../../sheets/cells.js';

describe('cellText', () => {
  it('writes numbers as Excel shows them, without binary noise or locale', () => {
    expect(cellText(0.1 + 0.2)).toBe('0.3');
    expect(cellText(1234567.5)).toBe('1234567.5');
    expect(cellText(-42)).toBe('-42');
  });

  it('writes dates as ISO dates, with the time only when there is one', () => {
    expect(cellText(new Date(Date.UTC(2024, 2, 5)))).toBe('2024-03-05');
    expect(cellText(new Date(Date.UTC(2024, 2, 5, 13, 30)))).toBe('2024-03-05T13:30:00.000Z');
  });

  it('reads formulas by their cached result, errors by their code, and a lost error as #N/A', () => {
    expect(cellText({ formula: 'A1-A1', result: 0 })).toBe('0');
    expect(cellText({ formula: 'A1', result: { error: '#DIV/0!' } })).toBe('#DIV/0!');
    expect(cellText({ formula: 'NA()', result: Number.NaN })).toBe('#N/A');
    expect(cellText({ formula: 'NOW()' })).toBe('');
    expect(cellText({ error: '#REF!' })).toBe('#REF!');
  });

  it('joins rich text and takes a hyperlink by its text', () => {
    expect(cellText({ richText: [{ text: 'a ' }, { text: 'b', font: { bold: true } }] })).toBe('a b');
    expect(cellText({ text: 'site', hyperlink: 'https://example.com' })).toBe('site');
    expect(cellText(true)).toBe('TRUE');
    expect(cellText(null)).toBe('');
  });
});

describe('cell kinds', () => {
  it('tells text from numbers and dates, also in CSV text', () => {
    expect([cellKind('Comment'), cellKind(3), cellKind(new Date()), cellKind({ error: '#N/A' })]).toEqual([
      'text',
      'number',
      'date',
      'error',
    ]);
    expect(['12', '-3,5', '2024-01-31', '31.01.2024 10:00', '5%', 'Q1', ' '].map(textKind)).toEqual([
      'number',
      'number',
      'number',
      'number',
      'number',
      'text',
      'empty',
    ]);
  });
});
