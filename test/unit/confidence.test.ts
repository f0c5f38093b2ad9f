import { describe, expect, it } from 'vitest';

import type { TokenLogprob, TopLogprob } from '../../domain/confidence.js';
import {
  answerConfidence,
  batchConfidences,
  labelConfidences,
  roundConfidence,
} from '../../domain/confidence.js';

const ln = Math.log;

/** A token the grammar forced or that carries no choice worth scoring: probability 1, no alternatives. */
const forced = (token: string, bytes?: number[]): TokenLogprob => ({
  token,
  logprob: 0,
  ...(bytes ? { bytes } : {}),
  top_logprobs: [],
});

/** A chosen token with probability `p` among alternatives `[token, p]`. */
const chose = (token: string, p: number, alternatives: Array<[string, number]>): TokenLogprob => ({
  token,
  logprob: ln(p),
  top_logprobs: [[token, p] as [string, number], ...alternatives].map(([t, q]): TopLogprob => ({
    token: t,
    logprob: q === 0 ? -9999 : ln(q),
  })),
});

/** The tokens' texts joined must be the content: every test starts by checking its own fixture. */
function content(tokens: readonly TokenLogprob[]): string {
  return tokens.map((t) => t.token).join('');
}

describe('labelConfidences: single-label answers, o200k-like tokens', () => {
  // {"1":3,"2":1} with 4 categories: numbers are tokens of their own, punctuation runs another.
  const tokens = [
    forced('{"'),
    forced('1'),
    forced('":'),
    chose('3', 0.8, [
      ['2', 0.1],
      ['9', 0.05], // past the last category: forbidden
      ['"', 0.05], // a string: forbidden
    ]),
    forced(',"'),
    forced('2'),
    forced('":'),
    chose('1', 0.5, [
      ['4', 0.3],
      ['3', 0.2],
    ]),
    forced('}'),
  ];

  it('renormalises the chosen number over the allowed numbers only', () => {
    expect(content(tokens)).toBe('{"1":3,"2":1}');
    const byId = labelConfidences(content(tokens), tokens, 4);
    expect(byId.get('1')?.get(3)).toBeCloseTo(0.8 / 0.9, 10);
    expect(byId.get('2')?.get(1)).toBeCloseTo(0.5, 10);
    expect([...byId.keys()]).toEqual(['1', '2']);
  });

  it('ignores the ids: a key token with alternatives is not a category number', () => {
    const withIdDoubt = tokens.map((t, i) => (i === 1 ? chose('1', 0.5, [['2', 0.5]]) : t));
    expect(labelConfidences(content(withIdDoubt), withIdDoubt, 4).get('1')?.get(3)).toBeCloseTo(
      0.8 / 0.9,
      10,
    );
  });

  it('counts the chosen token when the top list leaves it out, and nothing for -9999', () => {
    const unlikely: TokenLogprob = {
      token: '3',
      logprob: ln(0.1),
      top_logprobs: [
        { token: '2', logprob: ln(0.6) },
        { token: '1', logprob: -9999 },
      ],
    };
    const list = [forced('{"'), forced('1'), forced('":'), unlikely, forced('}')];
    expect(labelConfidences('{"1":3}', list, 4).get('1')?.get(3)).toBeCloseTo(0.1 / 0.7, 10);
  });

  it('gives 1 to a number the grammar forced', () => {
    const list = [forced('{"'), forced('1'), forced('":'), forced('2'), forced('}')];
    expect(labelConfidences('{"1":2}', list, 2).get('1')?.get(2)).toBe(1);
  });
});

describe('labelConfidences: punctuation merged with the number', () => {
  it('reads `":3` as the number 3 after the prefix `":`, and only same-prefix alternatives as numbers', () => {
    const tokens = [
      forced('{"'),
      forced('7'),
      chose('":3', 0.6, [
        ['":5', 0.2],
        ['":"', 0.15], // a string value: forbidden
        ['": ', 0.05], // whitespace first: not a number here
        [',"', 0.1], // another place altogether
      ]),
      forced(',"'),
      forced('8'),
      chose('":12}', 0.9, [['":1}', 0.1]]),
    ];
    expect(content(tokens)).toBe('{"7":3,"8":12}');
    const byId = labelConfidences(content(tokens), tokens, 12);
    expect(byId.get('7')?.get(3)).toBeCloseTo(0.6 / 0.8, 10);
    expect(byId.get('8')?.get(12)).toBeCloseTo(0.9, 10);
  });

  it('reads `[3` and `,7` inside a multi-code list', () => {
    const tokens = [
      forced('{"'),
      forced('1'),
      forced('":'),
      chose('[3', 0.7, [
        ['[2', 0.1],
        ['[]', 0.2], // an empty list: not a number
      ]),
      chose(',7', 0.4, [
        [',5', 0.4],
        [',8', 0.2], // 8 of 7 categories: forbidden
        [']', 0.0],
      ]),
      forced(']}'),
    ];
    expect(content(tokens)).toBe('{"1":[3,7]}');
    const byId = labelConfidences(content(tokens), tokens, 7);
    expect(byId.get('1')?.get(3)).toBeCloseTo(0.7 / 0.8, 10);
    expect(byId.get('1')?.get(7)).toBeCloseTo(0.5, 10);
  });
});

describe('labelConfidences: a number split across tokens', () => {
  it('judges it by its first token, each alternative counting for the allowed numbers it starts', () => {
    // 25 categories; 12 comes as "1" then "2" (a tokenizer that cuts digits one by one).
    const tokens = [
      forced('{"'),
      forced('1'),
      forced('":'),
      chose('1', 0.6, [
        ['2', 0.25], // 2, 20–25
        ['3', 0.05], // 3 only
        ['7,', 0.05], // 7, complete
        ['9,', 0.0],
        ['0', 0.05], // no category starts with 0
      ]),
      chose('2', 0.5, [['1', 0.5]]), // the second digit's doubt is left out
      forced('}'),
    ];
    expect(content(tokens)).toBe('{"1":12}');
    expect(labelConfidences(content(tokens), tokens, 25).get('1')?.get(12)).toBeCloseTo(0.6 / 0.95, 10);
  });

  it('does not count digits that could only make a number past the last category', () => {
    const tokens = [
      forced('{"'),
      forced('1'),
      forced('":'),
      chose('2', 0.5, [
        ['4', 0.5],
        ['3', 0.5],
      ]),
      forced('}'),
    ];
    // With 3 categories "4" is forbidden, and "3" is allowed.
    expect(labelConfidences('{"1":2}', tokens, 3).get('1')?.get(2)).toBeCloseTo(0.5, 10);
  });
});

describe('labelConfidences: alignment by bytes', () => {
  it('aligns by UTF-8 bytes, so an id in another script or a character split over tokens does not shift it', () => {
    // {"é":2,"ü":1}: é is 2 bytes, split into two tokens of one byte each; ü is one token of 2 bytes.
    const tokens: TokenLogprob[] = [
      forced('{"'),
      forced('\ufffd', [0xc3]),
      forced('\ufffd', [0xa9]),
      forced('":'),
      chose('2', 0.9, [['1', 0.1]]),
      forced(',"'),
      forced('ü'),
      forced('":'),
      chose('1', 0.3, [['2', 0.3]]),
      forced('}'),
    ];
    const byId = labelConfidences('{"é":2,"ü":1}', tokens, 2);
    expect(byId.get('é')?.get(2)).toBeCloseTo(0.9, 10);
    expect(byId.get('ü')?.get(1)).toBeCloseTo(0.5, 10);
  });

  it('gives nothing where the tokens are not the content', () => {
    const tokens = [forced('{"'), forced('1'), forced('": '), chose('3', 0.8, [['2', 0.2]]), forced('}')];
    // The content has no space: from the third token on, nothing lines up.
    expect(labelConfidences('{"1":3}', tokens, 4).size).toBe(0);
    expect(labelConfidences('{"1":3}', [], 4).size).toBe(0);
  });

  it('gives nothing for a value that is not a category number, and stops at a cut-off answer', () => {
    const tokens = [
      forced('{"'),
      forced('1'),
      forced('":'),
      chose('9', 0.9, [['2', 0.1]]),
      forced(',"'),
      forced('2'),
      forced('":"'),
      forced('x"'),
      forced(',"'),
      forced('3'),
      forced('":'),
      chose('2', 0.5, [['1', 0.5]]),
    ];
    expect(content(tokens)).toBe('{"1":9,"2":"x","3":2');
    // 9 of 4 is out of range; "x" is no number, and the scan stops there.
    expect(labelConfidences(content(tokens), tokens, 4).size).toBe(0);
  });
});

describe('answerConfidence and batchConfidences', () => {
  it('takes the least sure label of an answer, and none when a label has none', () => {
    const byNumber = new Map([
      [3, 0.9],
      [7, 0.6],
    ]);
    expect(answerConfidence(byNumber, [3])).toBe(0.9);
    expect(answerConfidence(byNumber, [3, 7])).toBe(0.6);
    expect(answerConfidence(byNumber, [3, 5])).toBeUndefined();
    expect(answerConfidence(byNumber, [])).toBeUndefined();
    expect(answerConfidence(undefined, [3])).toBeUndefined();
  });

  it("scores each item's validated labels, aligned with the items, null where none", () => {
    // Categories: 1 Price, 2 Delivery, 3 Other. Item 1 gave [1,3]: "Other" beside another is dropped, so
    // only Price's number counts; item 2 was given no tokens' doubt; item 3 is not in the answer.
    const tokens = [
      forced('{"'),
      forced('1'),
      forced('":'),
      chose('[1', 0.8, [['[2', 0.2]]),
      chose(',3', 0.5, [[',2', 0.5]]),
      forced('],"'),
      forced('2'),
      forced('":'),
      forced('[2'),
      forced(']}'),
    ];
    const answer = content(tokens);
    expect(answer).toBe('{"1":[1,3],"2":[2]}');
    const confidences = batchConfidences({
      content: answer,
      tokens,
      items: [
        { id: '1', text: 'a' },
        { id: '2', text: 'b' },
        { id: '3', text: 'c' },
      ],
      categories: [{ name: 'Price' }, { name: 'Delivery' }],
      labels: new Map([
        ['1', ['Price']],
        ['2', ['Delivery']],
      ]),
    });
    expect(confidences).toEqual([0.8, 1, null]);
    const none = { content: answer, items: [{ id: '1', text: 'a' }], categories: [], labels: new Map() };
    expect(batchConfidences({ ...none, tokens: null })).toEqual([null]);
  });

  it('rounds to four decimals', () => {
    expect(roundConfidence(0.8 / 0.9)).toBe(0.8889);
    expect(roundConfidence(1)).toBe(1);
  });
});
