/**
 * An XML part of an .xlsx as text, ready for an XML parser: decoded as one stream, with the characters XML
 * forbids escaped the way Excel escapes them, and with no DTD. Every part the readers parse goes through it.
 */
import { Readable } from 'node:stream';

import { DomainError, InvalidWorkbookError } from '../domain/errors.js';
import type { ZipEntry } from './zip.js';
import { openEntry } from './zip.js';

/**
 * The part's text in chunks of whole characters.
 *  - UTF-8 is decoded across chunk boundaries: exceljs decodes each unpacked chunk on its own, so a
 *    character cut by a boundary became U+FFFD (3 of 3,000 Japanese answers, in a test).
 *  - Characters XML 1.0 forbids (control codes, U+FFFE, U+FFFF), raw or as character references such as
 *    `&#1;` or `&#xD800;`, are written as Excel writes them, `_x0001_`: some programs write them as they
 *    are, and a strict parser would refuse the whole file for one cell. `decodeExcelEscapes` turns them
 *    back into the characters when a cell is read.
 *  - A document type declaration is refused: no Office part has one, and entities declared in it are how
 *    XML bombs (exponential expansion) and external entities (reading files or URLs) work.
 */
export function openXmlPart(path: string, entry: ZipEntry, displayName: string): Readable {
  return Readable.from(partText(openEntry(path, entry, displayName), entry.name, displayName), {
    objectMode: true,
  });
}

async function* partText(
  chunks: AsyncIterable<Buffer>,
  part: string,
  displayName: string,
): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let carry = '';
  for await (const chunk of chunks) {
    const text = carry + decoder.decode(chunk, { stream: true });
    // A reference or a markup start cut at the end waits for the rest of it.
    const open = Math.max(text.lastIndexOf('&'), text.lastIndexOf('<'));
    const cut = open >= text.length - CARRY ? open : text.length;
    carry = text.slice(cut);
    const ready = text.slice(0, cut);
    if (ready) yield checked(ready, part, displayName);
  }
  const rest = carry + decoder.decode();
  if (rest) yield checked(rest, part, displayName);
}

/** Longer than `&#x10FFFF;` and `<!DOCTYPE`. */
const CARRY = 16;

function checked(text: string, part: string, displayName: string): string {
  if (text.includes('<!DOCTYPE')) {
    throw new InvalidWorkbookError(
      displayName,
      `its part ${part} declares a document type (<!DOCTYPE>), which no Office file does: refused, ` +
        'as entities declared there can expand without bound or read other files',
    );
  }
  return text.replace(FORBIDDEN, (match, hex: string | undefined, decimal: string | undefined) => {
    if (hex === undefined && decimal === undefined) return excelEscape(match.charCodeAt(0));
    const code = hex !== undefined ? parseInt(hex, 16) : parseInt(decimal ?? '', 10);
    return isXmlChar(code) ? match : excelEscape(code);
  });
}

const FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- the control characters XML forbids are what is matched
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|&#(?:x([0-9A-Fa-f]{1,6})|(\d{1,7}));/g;

/** XML 1.0's `Char`; code points past Unicode are left for the parser to refuse. */
function isXmlChar(code: number): boolean {
  if (code > 0x10ffff) return true;
  if (code < 0x20) return code === 0x09 || code === 0x0a || code === 0x0d;
  return !(code >= 0xd800 && code <= 0xdfff) && code !== 0xfffe && code !== 0xffff;
}

function excelEscape(code: number): string {
  return `_x${code.toString(16).toUpperCase().padStart(4, '0')}_`;
}

/**
 * A parser's failure on a part as the error a person reads: which part, where, what. Domain errors (a zip
 * bomb caught while unpacking, a DTD) pass as they are.
 */
export function xmlPartError(error: unknown, part: string, displayName: string): unknown {
  if (error instanceof DomainError || !(error instanceof Error)) return error;
  if ((error as NodeJS.ErrnoException).syscall !== undefined) return error;
  // saxes says `1:239: disallowed character.`
  const position = /^(\d+):(\d+): (.*?)\.?$/s.exec(error.message);
  return new InvalidWorkbookError(
    displayName,
    position
      ? `its part ${part} is not well-formed XML (line ${position[1]}, column ${position[2]}: ${position[3]})`
      : `its part ${part} cannot be read (${error.message})`,
  );
}

/**
 * Excel holds at most 32,767 characters in a cell; other programs a little more. A cell (or shared string)
 * far past that is refused rather than held: a few MB of zip could otherwise unpack into one string of
 * hundreds of MB.
 */
export const MAX_CELL_CHARS = 1_048_576;

/** `x:row` → `row`: some writers prefix every element; Strict Open XML only changes the namespace. */
export function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}
