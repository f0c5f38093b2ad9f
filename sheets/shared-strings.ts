/**
 * The shared strings part (`xl/sharedStrings.xml`): the text of every string cell that points at it. Our
 * own parser rather than exceljs's streaming one, which reads a plain string's phonetic guide (`<rPh>`,
 * which Japanese Excel adds to text typed through an input method) in place of the text itself, adds the
 * whitespace between elements of an indented part to the text, and drops `<![CDATA[…]]>` text.
 */
import { SaxesParser } from 'saxes';
import type { SaxesTagPlain } from 'saxes';
import type { Font, RichText } from 'exceljs';

import { InvalidWorkbookError } from '../domain/errors.js';
import { MAX_CELL_CHARS, localName } from './xml-part.js';

/** As exceljs models a cell's text: a string, or runs with their fonts. */
export type SharedString = string | { readonly richText: RichText[] };

export async function readSharedStrings(
  text: AsyncIterable<string>,
  part: string,
  displayName: string,
): Promise<SharedString[]> {
  const strings: SharedString[] = [];
  const parser = new SaxesParser();
  let plain = '';
  let runs: RichText[] = [];
  let run: { text: string; font: Partial<Font> | undefined } | undefined;
  let inText = false;
  let inFont = false;
  let inPhonetic = false;
  let length = 0;

  const append = (value: string) => {
    if (!inText || inPhonetic) return;
    if (run) run.text += value;
    else plain += value;
    length += value.length;
    if (length > MAX_CELL_CHARS) {
      throw new InvalidWorkbookError(
        displayName,
        `its part ${part} has string ${strings.length + 1} of more than ${MAX_CELL_CHARS.toLocaleString('en')} ` +
          'characters (Excel holds at most 32,767 in a cell)',
      );
    }
  };
  parser.on('text', append);
  parser.on('cdata', append);
  parser.on('opentag', (node: SaxesTagPlain) => {
    const name = localName(node.name);
    if (inPhonetic) return;
    if (inFont && run) {
      run.font = { ...run.font, ...fontProperty(name, node.attributes) };
      return;
    }
    if (name === 'si') {
      plain = '';
      runs = [];
      length = 0;
    } else if (name === 'r') run = { text: '', font: undefined };
    else if (name === 'rPr') inFont = true;
    else if (name === 't') inText = true;
    else if (name === 'rPh') inPhonetic = true;
  });
  parser.on('closetag', (node: SaxesTagPlain) => {
    const name = localName(node.name);
    if (name === 'rPh') inPhonetic = false;
    else if (inPhonetic) return;
    else if (name === 't') inText = false;
    else if (name === 'rPr') inFont = false;
    else if (name === 'r' && run) {
      runs.push(run.font ? { font: run.font, text: run.text } : { text: run.text });
      run = undefined;
    } else if (name === 'si') strings.push(runs.length > 0 ? { richText: runs } : plain);
  });

  for await (const chunk of text) parser.write(chunk);
  parser.close();
  return strings;
}

/** One element of a run's `<rPr>` as exceljs's font model has it. */
function fontProperty(name: string, attributes: Record<string, string>): Partial<Font> {
  const val = attributes.val;
  const on = val !== '0' && val !== 'false';
  switch (name) {
    case 'b':
      return { bold: on };
    case 'i':
      return { italic: on };
    case 'strike':
      return { strike: on };
    case 'outline':
      return { outline: on };
    case 'u':
      return { underline: (val as Font['underline'] | undefined) ?? true };
    case 'vertAlign':
      return val === 'superscript' || val === 'subscript' ? { vertAlign: val } : {};
    case 'sz':
      return numeric(val, (size) => ({ size }));
    case 'rFont':
      return val ? { name: val } : {};
    case 'family':
      return numeric(val, (family) => ({ family }));
    case 'charset':
      return numeric(val, (charset) => ({ charset }));
    case 'scheme':
      return val === 'minor' || val === 'major' || val === 'none' ? { scheme: val } : {};
    case 'color': {
      const { rgb, theme, tint } = attributes;
      const color: Record<string, unknown> = {};
      if (rgb) color.argb = rgb;
      else if (theme !== undefined) color.theme = Number(theme);
      if (tint !== undefined) color.tint = Number(tint);
      return Object.keys(color).length > 0 ? { color } : {};
    }
    default:
      return {};
  }
}

function numeric(val: string | undefined, make: (n: number) => Partial<Font>): Partial<Font> {
  const n = Number(val);
  return val !== undefined && Number.isFinite(n) ? make(n) : {};
}
