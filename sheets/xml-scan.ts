/**
 * A small XML tokenizer for patching workbook parts in place: it finds tags, text, comments, CDATA and
 * processing instructions by position and never builds a tree, so whatever is not edited is written back
 * exactly as it was read. It checks no more well-formedness than finding token boundaries needs.
 *
 * It works on a string; for a sheet part streamed as bytes, decode the bytes as latin1 (one character per
 * byte), so string positions are byte offsets and untouched ranges can be copied from the buffer as they
 * are. Markup is ASCII, and UTF-8 continuation bytes are never `<`, `>`, quotes or whitespace.
 */

export type TokenKind = 'text' | 'open' | 'close' | 'empty' | 'other';

const LT = 60; // <
const GT = 62; // >
const SLASH = 47; // /
const BANG = 33; // !
const QUESTION = 63; // ?
const COLON = 58; // :
const EQUALS = 61; // =
const DQUOTE = 34;
const SQUOTE = 39;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * A pull tokenizer over `text`. `next()` moves to the next token and fills the fields; it returns false
 * when `text` is used up, or (unless `final`) when it ends inside a token, which then starts at `pos`.
 */
export class XmlScanner {
  text = '';
  pos = 0;
  kind: TokenKind = 'other';
  start = 0;
  end = 0;
  /** For tags: the qualified name's range, and where its local part starts. */
  nameStart = 0;
  nameEnd = 0;
  localStart = 0;

  reset(text: string, pos = 0): void {
    this.text = text;
    this.pos = pos;
  }

  next(final: boolean): boolean {
    const t = this.text;
    const p = this.pos;
    if (p >= t.length) return false;
    if (t.charCodeAt(p) !== LT) {
      // Text may be handed out in pieces: nothing here needs a whole text node.
      const q = t.indexOf('<', p);
      return this.token('text', p, q === -1 ? t.length : q);
    }
    const c1 = t.charCodeAt(p + 1);
    if (c1 === BANG) {
      if (t.startsWith('<!--', p)) return this.until('-->', p, final);
      if (t.startsWith('<![CDATA[', p)) return this.until(']]>', p, final);
      if (t.length - p < 9 && !final) return false; // too short to tell which kind yet
      return this.doctype(p, final);
    }
    if (c1 === QUESTION) return this.until('?>', p, final);
    if (Number.isNaN(c1)) return this.incomplete(final);
    const closing = c1 === SLASH;
    const end = this.tagEnd(closing ? p + 2 : p + 1);
    if (end === -1) return this.incomplete(final);
    this.nameStart = closing ? p + 2 : p + 1;
    let n = this.nameStart;
    this.localStart = n;
    for (; n < end; n += 1) {
      const c = t.charCodeAt(n);
      if (isSpace(c) || c === SLASH || c === GT) break;
      if (c === COLON) this.localStart = n + 1;
    }
    this.nameEnd = n;
    if (this.nameEnd === this.nameStart) throw new XmlSyntaxError(`a tag without a name at offset ${p}`);
    const kind = closing ? 'close' : t.charCodeAt(end - 1) === SLASH ? 'empty' : 'open';
    return this.token(kind, p, end + 1);
  }

  /** The local name (`row` for `x:row`) is `name`; no allocation. */
  isLocal(name: string): boolean {
    return this.nameEnd - this.localStart === name.length && this.text.startsWith(name, this.localStart);
  }

  /** The prefix with its colon (`x:`), or '' for none. */
  prefix(): string {
    return this.localStart === this.nameStart ? '' : this.text.slice(this.nameStart, this.localStart);
  }

  /** The raw (still escaped) value of an attribute of the current tag, by qualified name. */
  attr(name: string): string | undefined {
    return attributeValue(this.text, this.nameEnd, this.end, name);
  }

  /** True when the current text token holds anything but whitespace. */
  hasNonSpaceText(): boolean {
    for (let i = this.start; i < this.end; i += 1) if (!isSpace(this.text.charCodeAt(i))) return true;
    return false;
  }

  private token(kind: TokenKind, start: number, end: number): boolean {
    this.kind = kind;
    this.start = start;
    this.end = end;
    this.pos = end;
    return true;
  }

  private until(terminator: string, p: number, final: boolean): boolean {
    const q = this.text.indexOf(terminator, p + 2);
    if (q === -1) return this.incomplete(final);
    return this.token('other', p, q + terminator.length);
  }

  /** `<!DOCTYPE …>`, with an internal subset in brackets possibly holding `>`. */
  private doctype(p: number, final: boolean): boolean {
    const t = this.text;
    let depth = 0;
    for (let i = p + 2; i < t.length; i += 1) {
      const c = t.charCodeAt(i);
      if (c === 91) depth += 1;
      else if (c === 93) depth -= 1;
      else if (c === GT && depth <= 0) return this.token('other', p, i + 1);
    }
    return this.incomplete(final);
  }

  /** The index of the `>` ending a tag whose name starts at `from`, skipping quoted attribute values. */
  private tagEnd(from: number): number {
    const t = this.text;
    for (let i = from; ;) {
      const gt = t.indexOf('>', i);
      if (gt === -1) return -1;
      // Only the tag's own characters are looked at: a search for a quote must not run on past it.
      let quote = -1;
      for (let k = i; k < gt; k += 1) {
        const c = t.charCodeAt(k);
        if (c === DQUOTE || c === SQUOTE) {
          quote = k;
          break;
        }
      }
      if (quote === -1) return gt;
      const close = t.indexOf(t.charCodeAt(quote) === DQUOTE ? '"' : "'", quote + 1);
      if (close === -1) return -1;
      i = close + 1;
    }
  }

  private incomplete(final: boolean): boolean {
    if (final)
      throw new XmlSyntaxError(`it ends inside a tag, comment or CDATA section (offset ${this.pos})`);
    return false;
  }
}

export class XmlSyntaxError extends Error {}

/** The raw value of attribute `name` in the tag text between `from` and `to` (exclusive), if present. */
export function attributeValue(t: string, from: number, to: number, name: string): string | undefined {
  const range = attributeRange(t, from, to, name);
  return range ? t.slice(range[0], range[1]) : undefined;
}

/** Where the value of attribute `name` sits (without its quotes) in the tag text between `from` and `to`. */
export function attributeRange(
  t: string,
  from: number,
  to: number,
  name: string,
): [number, number] | undefined {
  let i = from;
  while (i < to) {
    let c = t.charCodeAt(i);
    while (i < to && (isSpace(c) || c === SLASH || c === GT)) c = t.charCodeAt(++i);
    if (i >= to) return undefined;
    const nameStart = i;
    while (i < to && !isSpace(c) && c !== EQUALS && c !== GT && c !== SLASH) c = t.charCodeAt(++i);
    const nameEnd = i;
    while (i < to && isSpace(c)) c = t.charCodeAt(++i);
    if (c !== EQUALS) continue; // not an attribute (stray text): keep looking
    c = t.charCodeAt(++i);
    while (i < to && isSpace(c)) c = t.charCodeAt(++i);
    if (c !== DQUOTE && c !== SQUOTE) return undefined;
    const close = t.indexOf(c === DQUOTE ? '"' : "'", i + 1);
    if (close === -1 || close >= to) return undefined;
    if (nameEnd - nameStart === name.length && t.startsWith(name, nameStart)) return [i + 1, close];
    i = close + 1;
  }
  return undefined;
}

/** Every attribute of a tag as raw (escaped) values, by qualified name; for the small parts only. */
export function attributes(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const [, name, dq, sq] of tag.matchAll(/([^\s=/<>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    if (name !== undefined) attrs.set(name, dq ?? sq ?? '');
  }
  return attrs;
}

/** The tag text with attribute `name` set to `value` (already escaped), added at the end when absent. */
export function withAttribute(tag: string, name: string, value: string): string {
  const range = attributeRange(tag, 1, tag.length, name);
  if (range) return tag.slice(0, range[0]) + value + tag.slice(range[1]);
  const end = tag.endsWith('/>') ? tag.length - 2 : tag.length - 1;
  return `${tag.slice(0, end)} ${name}="${value}"${tag.slice(end)}`;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Attribute or text content with its entity and character references resolved. */
export function decodeXml(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return safeCodePoint(parseInt(ref.slice(2), 16)) ?? whole;
    if (ref.startsWith('#')) return safeCodePoint(parseInt(ref.slice(1), 10)) ?? whole;
    return ENTITIES[ref] ?? whole;
  });
}

function safeCodePoint(n: number): string | undefined {
  return Number.isInteger(n) && n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined;
}

/** Escapes `&`, `<`, `>` and quotes, for text and for attribute values in double quotes. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;',
  );
}

// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const NEEDS_ESCAPE = /[&<>"\r_\u0000-\u001f\ud800-\udfff\ufffe\uffff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A cell string as SpreadsheetML text: XML-escaped; characters XML 1.0 cannot carry (controls other than tab,
 * LF and CR, U+FFFE, U+FFFF) written as OOXML's `_xHHHH_`, and a literal `_xHHHH_` in the text escaped as
 * `_x005F_xHHHH_` so Excel does not decode it; CR as `&#13;`, which a parser would otherwise turn into LF.
 * Lone surrogates cannot be encoded in UTF-8 and become U+FFFD, as Node's encoder would make them anyway.
 */
export function escapeCellText(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return escapeXml(text.replace(LONE_SURROGATE, '\ufffd'))
    .replace(/_(x[0-9a-fA-F]{4}_)/g, '_x005F_$1')
    .replace(/\r/g, '&#13;')
    .replace(
      // eslint-disable-next-line no-control-regex -- these are the characters being replaced
      /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g,
      (c) => `_x${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`,
    );
}

/** An element of a small part, by position; for edits by splicing text. */
export interface XmlElement {
  /** Local name (`sheet` for `x:sheet`) and prefix with its colon (`x:`, or ''). */
  readonly local: string;
  readonly prefix: string;
  readonly depth: number;
  /** The start tag's range; for an empty element the whole element. */
  readonly start: number;
  readonly tagEnd: number;
  /** Where the end tag starts and the element ends (both `tagEnd` for an empty element). */
  closeStart: number;
  end: number;
  readonly empty: boolean;
  readonly tag: string;
  readonly parent: XmlElement | undefined;
}

/** Every element of a (small, whole) part in document order; throws `XmlSyntaxError` on a cut-off token. */
export function outline(xml: string): XmlElement[] {
  const sc = new XmlScanner();
  sc.reset(xml);
  const elements: XmlElement[] = [];
  const open: XmlElement[] = [];
  while (sc.next(true)) {
    if (sc.kind === 'open' || sc.kind === 'empty') {
      const empty = sc.kind === 'empty';
      const element: XmlElement = {
        local: xml.slice(sc.localStart, sc.nameEnd),
        prefix: sc.prefix(),
        depth: open.length,
        start: sc.start,
        tagEnd: sc.end,
        closeStart: sc.end,
        end: sc.end,
        empty,
        tag: xml.slice(sc.start, sc.end),
        parent: open.at(-1),
      };
      elements.push(element);
      if (!empty) open.push(element);
    } else if (sc.kind === 'close') {
      const element = open.pop();
      if (!element || element.local !== xml.slice(sc.localStart, sc.nameEnd)) {
        throw new XmlSyntaxError(`an end tag that closes nothing open at offset ${sc.start}`);
      }
      element.closeStart = sc.start;
      element.end = sc.end;
    }
  }
  if (open.length > 0) throw new XmlSyntaxError(`<${open[0]?.local ?? ''}> is never closed`);
  return elements;
}

/** The children of `parent` named `local`. */
export function childrenOf(elements: readonly XmlElement[], parent: XmlElement, local: string): XmlElement[] {
  return elements.filter((e) => e.parent === parent && e.local === local);
}
