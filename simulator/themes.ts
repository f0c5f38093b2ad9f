/**
 * The simulator's theme "model", for codeframe drafting: a catalogue of themes it knows by their keywords,
 * a generator of survey answers that carry them in known shares, and the rule that answers theme-extraction
 * and merge requests. Deterministic per request content, yet it words the same theme differently from one
 * request to the next (so merging on meaning is really tested) and now and then reports a spurious one-off
 * theme (so folding small codes into Other is too).
 *
 * Extraction: each answer's theme is the first catalogue theme with a keyword in it (a whole word or
 * phrase, as the coding rule matches); each theme present is named with one of its wordings, picked by a
 * hash of the request and the theme; its description is its keywords, comma-separated, so that coding with
 * the codeframe (the keyword rule of labels.ts) finds its answers again. With probability `spuriousRate`
 * (hashed, per request) one answer also gets a spurious theme of its own.
 * Merge: themes whose labels are wordings of the same catalogue theme become one code (named and netted
 * as the catalogue says); any other label stays alone. Past the request's target, the smallest groups are
 * left out when the request allows it; when it asks for every theme in a code (or, told otherwise, with
 * probability `catchAllRate`) they are lumped together into a catch-all ("Miscellaneous", "Other
 * comments", …), as a model tempted to fit everything into few codes does.
 */
import { createHash } from 'node:crypto';
import {
  MERGE_SCHEMA_NAME,
  THEMES_SCHEMA_NAME,
  readExtractionRequest,
  readMergeRequest,
} from '../domain/codeframe-prompt.js';
import type { MergeItem } from '../domain/codeframe-prompt.js';
import type { PromptItem } from '../domain/prompt.js';
import { normalizeAnswer } from '../domain/text.js';
import { seededRandom } from '../domain/sampling.js';
import type { ModelOutcome } from './model.js';
import type { FaultKind, ThemeOptions } from './options.js';
import type { ChatRequest, ModelReply, ParsedChatRequest } from './protocol.js';
import { REFUSAL, parseChatRequest } from './protocol.js';

export interface CatalogueTheme {
  readonly key: string;
  /** The net a merge puts it in ('' for none). */
  readonly net: string;
  /** Whole words or phrases that mark an answer as carrying it. */
  readonly keywords: readonly string[];
  /** Labels the simulated model names it with: one per request, by hash. */
  readonly wordings: readonly string[];
  /** Fragments of answers that carry it (each holds a keyword of this theme and of no other). */
  readonly phrases: readonly string[];
  /** Its share of the answers `generateThemedAnswers` writes. */
  readonly share: number;
}

/**
 * Fifteen themes: eleven at 2 % or more (a codeframe must have them), one between 1 and 2 %, three under
 * 1 % (under the default --min-share). The rest of the answers (15.4 %) carry none. Ordered as they are
 * matched: an answer carries the first theme with a keyword in it.
 */
export const THEME_CATALOGUE: readonly CatalogueTheme[] = [
  {
    key: 'price',
    net: 'Price',
    keywords: ['too expensive', 'too high', 'overpriced', 'pricey'],
    wordings: ['Too expensive', 'High prices', 'Prices too high', 'Overpriced products'],
    phrases: [
      'prices are too high',
      'everything is overpriced',
      'a bit pricey for what you get',
      'it is too expensive',
    ],
    share: 0.15,
  },
  {
    key: 'value',
    net: 'Price',
    keywords: ['good value', 'value for money', 'affordable', 'bargain'],
    wordings: ['Good value', 'Value for money', 'Affordable prices', 'Fair prices'],
    phrases: ['good value overall', 'really affordable', 'a real bargain', 'great value for money'],
    share: 0.06,
  },
  {
    key: 'late',
    net: 'Delivery',
    keywords: ['late', 'delayed', 'took ages', 'still waiting'],
    wordings: ['Late delivery', 'Delivery delays', 'Slow delivery', 'Orders arrive late'],
    phrases: [
      'delivery was late',
      'my order was delayed',
      'shipping took ages',
      'still waiting for my order',
    ],
    share: 0.12,
  },
  {
    key: 'damaged',
    net: 'Delivery',
    keywords: ['damaged', 'smashed', 'dented', 'crushed'],
    wordings: ['Damaged on arrival', 'Items arrived damaged', 'Damage in transit'],
    phrases: [
      'the box arrived damaged',
      'items were smashed',
      'a dented tin in the bag',
      'the parcel was crushed',
    ],
    share: 0.05,
  },
  {
    key: 'staff_good',
    net: 'Service',
    keywords: ['helpful', 'friendly', 'polite', 'sorted out'],
    wordings: ['Helpful staff', 'Friendly staff', 'Good customer service', 'Staff were helpful'],
    phrases: [
      'staff were so helpful',
      'friendly people at the till',
      'polite and quick service',
      'they sorted out my problem',
    ],
    share: 0.1,
  },
  {
    key: 'staff_bad',
    net: 'Service',
    keywords: ['rude', 'unhelpful', 'ignored', 'dismissive'],
    wordings: ['Rude staff', 'Unhelpful staff', 'Poor customer service', 'Staff attitude'],
    phrases: [
      'the staff were rude',
      'unhelpful people on the phone',
      'I was ignored at the counter',
      'a dismissive manager',
    ],
    share: 0.04,
  },
  {
    key: 'returns',
    net: 'Service',
    keywords: ['refund', 'returns', 'return policy', 'send it back'],
    wordings: ['Returns and refunds', 'Refund problems', 'Return policy'],
    phrases: [
      'the refund took forever',
      'returns are a hassle',
      'the return policy is strict',
      'had to send it back',
    ],
    share: 0.025,
  },
  {
    key: 'checkout',
    net: 'Website and app',
    keywords: ['checkout', 'payment', 'card declined'],
    wordings: ['Checkout problems', 'Payment issues', 'Checkout failures'],
    phrases: ['checkout keeps failing', 'payment did not go through', 'my card declined online'],
    share: 0.03,
  },
  {
    key: 'app',
    net: 'Website and app',
    // Not "website": the checkout theme's answers say "on the website", and a word two themes share
    // would code them by the order of the codes, not by their theme.
    keywords: ['app', 'login', 'crashes', 'search'],
    wordings: ['App and website problems', 'Website issues', 'App crashes', 'Login problems'],
    phrases: ['the app crashes', 'the app is so slow', 'cannot login most days', 'search is useless'],
    share: 0.09,
  },
  {
    key: 'quality',
    net: 'Product',
    keywords: ['quality', 'works well', 'well made', 'durable', 'defective'],
    wordings: ['Product quality', 'Quality of products', 'Good quality', 'Well-made products'],
    phrases: ['great quality', 'it works well', 'very well made', 'durable products'],
    share: 0.08,
  },
  {
    key: 'range',
    net: 'Product',
    keywords: ['choice', 'range', 'selection', 'variety'],
    wordings: ['Wide choice', 'Product range', 'Good selection', 'Variety of products'],
    phrases: ['lots of choice', 'a good range', 'great selection', 'plenty of variety'],
    share: 0.07,
  },
  {
    key: 'packaging',
    net: 'Product',
    keywords: ['packaging', 'plastic', 'cardboard'],
    wordings: ['Too much packaging', 'Excess packaging', 'Plastic packaging'],
    phrases: ['too much packaging', 'so much plastic', 'wasteful cardboard boxes'],
    share: 0.015,
  },
  {
    key: 'loyalty',
    net: '',
    keywords: ['loyalty', 'points', 'rewards'],
    wordings: ['Loyalty scheme', 'Rewards programme', 'Loyalty points'],
    phrases: ['love the loyalty scheme', 'points never add up', 'rewards are worth it'],
    share: 0.008,
  },
  {
    key: 'parking',
    net: '',
    keywords: ['parking', 'car park'],
    wordings: ['Parking', 'Car park problems', 'Lack of parking'],
    phrases: ['parking is a nightmare', 'the car park is always full'],
    share: 0.005,
  },
  {
    key: 'hours',
    net: '',
    keywords: ['opening hours', 'open later', 'closes early'],
    wordings: ['Opening hours', 'Store hours', 'Longer opening hours'],
    phrases: ['better opening hours please', 'wish you were open later', 'the shop closes early'],
    share: 0.003,
  },
];

/** Themes a model makes up from one answer now and then: no answer carries their words. */
export const SPURIOUS_THEMES: ReadonlyArray<{ readonly label: string; readonly description: string }> = [
  { label: 'Weather on the day', description: 'Remarks about the weather on the day of the visit.' },
  { label: 'Background music', description: 'Comments on the music played in store.' },
  { label: 'Mascot costume', description: 'Mentions of the mascot costume at the entrance.' },
  { label: 'Competitor advert', description: 'References to an advert seen for a competitor.' },
  { label: 'Font on receipts', description: 'Opinions about the font printed on receipts.' },
  { label: 'Trolley wheels', description: 'Complaints about squeaky trolley wheels.' },
];

/** What the simulator calls the codes it lumps the rest into, when asked for fewer codes than it found. */
export const CATCH_ALL_LABELS = ['Miscellaneous', 'Other comments', 'Various', 'General feedback'] as const;
export const MISCELLANEOUS = CATCH_ALL_LABELS[0];

/** Answers that carry no theme. */
const NO_THEME = [
  'nothing to add',
  'no comment',
  'all fine',
  'hard to say',
  'just a normal visit',
  'it was ok',
];
const OPENERS = [
  '',
  'Honestly, ',
  'To be fair, ',
  'Well, ',
  'I think ',
  'Mainly because ',
  'For me ',
  'Overall ',
  'Basically ',
  'Simply put, ',
];
const CLOSERS = [
  '',
  '.',
  '!',
  ' to be honest',
  ' every time',
  ' this year',
  ' as usual',
  ', sadly',
  ', really',
  ' again',
];

const wordingIndex = new Map<string, CatalogueTheme>();
for (const t of THEME_CATALOGUE) for (const w of t.wordings) wordingIndex.set(normalizeAnswer(w), t);
const spuriousIndex = new Set(SPURIOUS_THEMES.map((s) => normalizeAnswer(s.label)));

/** The catalogue theme an answer carries: the first with a keyword in it, as a whole word or phrase. */
export function themeOfAnswer(answer: string): CatalogueTheme | undefined {
  const text = normalizeAnswer(answer);
  return THEME_CATALOGUE.find((t) => t.keywords.some((k) => containsWord(text, k)));
}

/** The catalogue theme a label is a wording of (any case), if any. */
export function themeOfLabel(label: string): CatalogueTheme | undefined {
  return wordingIndex.get(normalizeAnswer(label));
}

export function isSpuriousLabel(label: string): boolean {
  return spuriousIndex.has(normalizeAnswer(label));
}

function containsWord(text: string, keyword: string): boolean {
  const escaped = keyword.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'u').test(text);
}

export interface ThemedAnswer {
  readonly text: string;
  /** The catalogue theme it carries, or null for none. */
  readonly theme: string | null;
}

/**
 * `count` survey answers, each carrying one catalogue theme with the catalogue's shares (or none), built
 * from an opener, a phrase of the theme and a closer: about 400 distinct wordings a theme, so a large
 * survey repeats answers as real ones do. Seeded: the same count and seed give the same answers.
 */
export function generateThemedAnswers(count: number, seed = 1): ThemedAnswer[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  return Array.from({ length: count }, () => {
    let r = random();
    const theme = THEME_CATALOGUE.find((t) => (r -= t.share) < 0);
    const body = theme ? pick(theme.phrases) : pick(NO_THEME);
    const opener = pick(OPENERS);
    const text = `${opener}${opener ? body : body.charAt(0).toUpperCase() + body.slice(1)}${pick(CLOSERS)}`;
    return { text, theme: theme?.key ?? null };
  });
}

/** Each theme's share of the answers (themes carried by none left out). */
export function themeShares(answers: ReadonlyArray<{ readonly text: string }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const t = themeOfAnswer(a.text);
    if (t) counts.set(t.key, (counts.get(t.key) ?? 0) + 1);
  }
  return new Map([...counts].map(([k, n]) => [k, n / Math.max(1, answers.length)]));
}

export type ThemeTask =
  | {
      readonly kind: 'extract';
      readonly items: readonly PromptItem[];
      readonly maxThemes: number;
      readonly hash: string;
    }
  | {
      readonly kind: 'merge';
      readonly themes: readonly MergeItem[];
      readonly target: number;
      /** The request allows themes to be left out of every code. */
      readonly leaveOut: boolean;
      readonly hash: string;
    };

export type ThemeChatRequest = ChatRequest & { readonly themes: ThemeTask };

export function isThemeRequest(request: ChatRequest): request is ThemeChatRequest {
  return 'themes' in request;
}

/**
 * A theme-extraction or merge request, told apart by its schema's name; undefined for any other request
 * (coding requests go on to `parseChatRequest`). The rest of the request is checked as any other.
 */
export function parseThemeRequest(
  body: unknown,
): { ok: true; request: ThemeChatRequest } | Exclude<ParsedChatRequest, { ok: true }> | undefined {
  const format = (body as { response_format?: { type?: unknown; json_schema?: { name?: unknown } } } | null)
    ?.response_format;
  const name = format?.type === 'json_schema' ? format.json_schema?.name : undefined;
  if (name !== THEMES_SCHEMA_NAME && name !== MERGE_SCHEMA_NAME) return undefined;
  const parsed = parseChatRequest({ ...(body as object), response_format: undefined });
  if (!parsed.ok) return parsed;
  const messages = (body as { messages: Array<{ role?: unknown; content?: unknown }> }).messages;
  const text = (role: string) =>
    messages
      .filter((m) => m.role === role && typeof m.content === 'string')
      .map((m) => m.content as string)
      .join('\n');
  const system = text('system');
  const user = messages.findLast((m) => m.role === 'user' && typeof m.content === 'string')
    ?.content as string;
  const hash = createHash('sha256')
    .update(system)
    .update('\u0000')
    .update(user ?? '')
    .digest('hex');
  const invalid = (what: string) =>
    ({
      ok: false,
      message: `The simulator could not read this ${what} request: build it with domain/codeframe-prompt.ts.`,
      param: 'messages',
    }) as const;
  if (name === THEMES_SCHEMA_NAME) {
    const read = readExtractionRequest(system, user ?? '');
    if (!read) return invalid('theme-extraction');
    return { ok: true, request: { ...parsed.request, themes: { kind: 'extract', ...read, hash } } };
  }
  const read = readMergeRequest(system, user ?? '');
  if (!read) return invalid('merge');
  return { ok: true, request: { ...parsed.request, themes: { kind: 'merge', ...read, hash } } };
}

/** The simulated model's reply to a theme request, spoiled by the request's output fault if it has one. */
export function themeReply(
  task: ThemeTask,
  fault: FaultKind | undefined,
  options: ThemeOptions = {},
): ModelOutcome {
  const outcome = (reply: ModelReply): ModelOutcome => ({ reply, labelsReturned: 0, validCoding: false });
  if (fault === 'refusal') return outcome({ content: null, refusal: REFUSAL, finishReason: 'stop' });
  const content = JSON.stringify(task.kind === 'extract' ? extract(task, options) : merge(task, options));
  if (fault === 'truncated' || fault === 'malformed_json') {
    return outcome({
      content: content.slice(0, Math.floor(content.length / 2)),
      refusal: null,
      finishReason: fault === 'truncated' ? 'length' : 'stop',
    });
  }
  return outcome({ content, refusal: null, finishReason: 'stop' });
}

/** A number in [0, 1) from the request's hash and a purpose: the same request, the same choice. */
function unit(hash: string, purpose: string): number {
  const h = createHash('sha256').update(hash).update(purpose).digest();
  return h.readUInt32BE(0) / 4_294_967_296;
}

function wording(theme: CatalogueTheme, hash: string): string {
  return (
    theme.wordings[Math.floor(unit(hash, theme.key) * theme.wordings.length)] ??
    theme.wordings[0] ??
    theme.key
  );
}

function describe(theme: CatalogueTheme): string {
  return theme.keywords.join(', ');
}

function extract(task: Extract<ThemeTask, { kind: 'extract' }>, options: ThemeOptions) {
  const byTheme = new Map<CatalogueTheme, string[]>();
  for (const item of task.items) {
    const theme = themeOfAnswer(item.text);
    if (theme) byTheme.set(theme, [...(byTheme.get(theme) ?? []), item.id]);
  }
  const themes = [...byTheme]
    .sort(([, a], [, b]) => b.length - a.length)
    .map(([theme, ids]) => ({ label: wording(theme, task.hash), description: describe(theme), ids }));
  const rate = options.spuriousRate ?? 0.3;
  if (task.items.length > 0 && unit(task.hash, 'spurious') < rate) {
    const item = task.items[Math.floor(unit(task.hash, 'spurious answer') * task.items.length)];
    const spurious = SPURIOUS_THEMES[Math.floor(unit(task.hash, 'spurious theme') * SPURIOUS_THEMES.length)];
    if (item && spurious) themes.push({ ...spurious, ids: [item.id] });
  }
  return { themes: themes.slice(0, task.maxThemes) };
}

function merge(task: Extract<ThemeTask, { kind: 'merge' }>, options: ThemeOptions) {
  const groups = new Map<string, { theme?: CatalogueTheme; items: MergeItem[] }>();
  for (const item of task.themes) {
    const theme = themeOfLabel(item.label);
    const key = theme ? `theme:${theme.key}` : `label:${normalizeAnswer(item.label)}`;
    const group = groups.get(key) ?? (theme ? { theme, items: [] } : { items: [] });
    group.items.push(item);
    groups.set(key, group);
  }
  const size = (g: { items: MergeItem[] }) => g.items.reduce((s, i) => s + (i.answers ?? 0), 0);
  const sorted = [...groups.values()].sort((a, b) => size(b) - size(a));
  const target = Math.max(1, task.target);
  const kept = sorted.length > target ? sorted.slice(0, target - 1) : sorted;
  const code = (g: { theme?: CatalogueTheme; items: MergeItem[] }) => {
    const first = g.items[0];
    return g.theme
      ? {
          label: wording(g.theme, task.hash),
          description: describe(g.theme),
          net: g.theme.net,
          themes: ids(g),
        }
      : { label: first?.label ?? '', description: first?.description ?? '', net: '', themes: ids(g) };
  };
  const codes = kept.map(code);
  const tempted = !task.leaveOut || unit(task.hash, 'catch-all') < (options.catchAllRate ?? 0);
  if (sorted.length > target && !tempted) {
    // Told it may leave themes out: the target's largest are the codes, the rest fit none of them.
    const extra = sorted[target - 1];
    if (extra) codes.push(code(extra));
  } else if (sorted.length > target) {
    const rest = sorted.slice(target - 1);
    const keywords = rest.flatMap((g) => g.theme?.keywords ?? []);
    const label = CATCH_ALL_LABELS[Math.floor(unit(task.hash, 'catch-all label') * CATCH_ALL_LABELS.length)];
    codes.push({
      label: label ?? MISCELLANEOUS,
      description: keywords.length > 0 ? keywords.join(', ') : 'Various other remarks.',
      net: '',
      themes: rest.flatMap(ids),
    });
  }
  return { codes };
}

function ids(g: { items: MergeItem[] }): string[] {
  return g.items.map((i) => i.id);
}
