/**
 * A tiny, strict XML reader for the EC2 Query API's responses: elements, text, entities and CDATA.
 * It keeps element names without namespace prefixes, ignores attributes, comments, processing
 * instructions and DOCTYPE, and rejects anything it cannot read (truncated or mismatched tags, bad
 * entities) with `E_MALFORMED_RESPONSE`. It is not a general-purpose XML parser.
 */
import { FleetwatchError } from '../errors.js';

/** One element of a parsed EC2 XML document. */
export interface Ec2XmlElement {
  /** Local name (any `prefix:` removed). */
  readonly name: string;
  /** Child elements, in document order (leaves share one frozen empty array). */
  children: readonly Ec2XmlElement[];
  /** The element's own text (entities decoded), concatenated across text nodes. */
  text: string;
}

/** Nesting deeper than this is treated as malformed (EC2 responses are far shallower). */
const MAX_DEPTH = 256;

/** The rest of a start tag after its name (sticky): attributes (ignored), then `>` or `/>`. */
const TAG_REST = /(?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(\/?)>/y;

/** Shared by every leaf element, so leaves allocate no array. */
const NO_CHILDREN: readonly Ec2XmlElement[] = Object.freeze([]);

const SLASH = 47;
const QUESTION = 63;
const BANG = 33;
const GT = 62;

/** `[A-Za-z_]` */
function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** `[A-Za-z0-9_.:-]` */
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 58) || c === 46 || c === 45;
}

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function malformed(message: string, position: number, provider?: string): FleetwatchError {
  return new FleetwatchError('E_MALFORMED_RESPONSE', `EC2 XML: ${message} at character ${position}`, {
    position,
    ...(provider === undefined ? {} : { provider }),
  });
}

function decodeEntities(raw: string, offset: number, provider?: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]{0,10});?/g, (match, body: string, at: number) => {
    if (!match.endsWith(';')) throw malformed('unterminated entity', offset + at, provider);
    if (body.startsWith('#')) {
      const code =
        body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1));
      if (!Number.isInteger(code) || code < 0 || code > 0x10ffff || body.length < 2) {
        throw malformed(`bad character reference &${body};`, offset + at, provider);
      }
      return String.fromCodePoint(code);
    }
    const named = NAMED_ENTITIES[body];
    if (named === undefined) throw malformed(`unknown entity &${body};`, offset + at, provider);
    return named;
  });
}

function localName(qualified: string): string {
  const colon = qualified.indexOf(':');
  return colon === -1 ? qualified : qualified.slice(colon + 1);
}

/** Skip a comment, CDATA section (appending its text) or declaration at `i`; returns the next index. */
function skipBang(
  xml: string,
  i: number,
  stack: Ec2XmlElement[],
  rootDone: boolean,
  provider: string | undefined,
): number {
  if (xml.startsWith('<!--', i)) {
    const end = xml.indexOf('-->', i + 4);
    if (end === -1) throw malformed('unterminated comment', i, provider);
    return end + 3;
  }
  if (xml.startsWith('<![CDATA[', i)) {
    const end = xml.indexOf(']]>', i + 9);
    if (end === -1) throw malformed('unterminated CDATA section', i, provider);
    const top = stack[stack.length - 1];
    if (top === undefined) throw malformed('CDATA outside the root element', i, provider);
    top.text += xml.slice(i + 9, end);
    return end + 3;
  }
  if (rootDone || stack.length > 0) throw malformed('declaration inside the document', i, provider);
  const end = xml.indexOf('>', i + 2);
  if (end === -1) throw malformed('unterminated declaration', i, provider);
  return end + 1;
}

/**
 * Parse an EC2 XML response body into its root element.
 *
 * @throws FleetwatchError `E_MALFORMED_RESPONSE` (with `position`) when the text is not well-formed.
 */
export function parseEc2Xml(xml: string, provider?: string): Ec2XmlElement {
  const stack: Ec2XmlElement[] = [];
  let root: Ec2XmlElement | undefined;
  let i = 0;
  const n = xml.length;
  while (i < n) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt === -1 ? n : lt;
    if (textEnd > i) {
      const raw = xml.slice(i, textEnd);
      const top = stack[stack.length - 1];
      if (top !== undefined) top.text += decodeEntities(raw, i, provider);
      else if (raw.trim() !== '') throw malformed('text outside the root element', i, provider);
    }
    if (lt === -1) break;
    i = lt;
    const next = xml.charCodeAt(i + 1);
    if (next === SLASH) {
      const end = xml.indexOf('>', i + 2);
      if (end === -1) throw malformed('unterminated end tag', i, provider);
      const name = localName(xml.slice(i + 2, end).trimEnd());
      const top = stack.pop();
      if (top === undefined || top.name !== name) {
        throw malformed(`end tag </${name}> does not match <${top?.name ?? ''}>`, i, provider);
      }
      if (stack.length === 0) root = top;
      i = end + 1;
    } else if (next === QUESTION) {
      const end = xml.indexOf('?>', i + 2);
      if (end === -1) throw malformed('unterminated processing instruction', i, provider);
      i = end + 2;
    } else if (next === BANG) {
      i = skipBang(xml, i, stack, root !== undefined, provider);
    } else {
      // A start tag: the name, then '>' or '/>' (fast path) or attributes (ignored).
      let j = i + 1;
      while (j < n && isNameChar(xml.charCodeAt(j))) j++;
      if (j === i + 1 || !isNameStart(next)) throw malformed('bad start tag', i, provider);
      const qualified = xml.slice(i + 1, j);
      let selfClosing = false;
      const c = xml.charCodeAt(j);
      if (c === GT) j += 1;
      else if (c === SLASH && xml.charCodeAt(j + 1) === GT) {
        selfClosing = true;
        j += 2;
      } else {
        TAG_REST.lastIndex = j;
        const rest = TAG_REST.exec(xml);
        if (rest === null) throw malformed('bad or truncated start tag', i, provider);
        selfClosing = rest[1] === '/';
        j += rest[0].length;
      }
      if (root !== undefined) throw malformed('more than one root element', i, provider);
      if (stack.length >= MAX_DEPTH) throw malformed('nesting too deep', i, provider);
      const element: Ec2XmlElement = { name: localName(qualified), children: NO_CHILDREN, text: '' };
      const parent = stack[stack.length - 1];
      if (parent !== undefined) {
        if (parent.children === NO_CHILDREN) parent.children = [element];
        else (parent.children as Ec2XmlElement[]).push(element);
      }
      if (!selfClosing) stack.push(element);
      else if (parent === undefined) root = element;
      i = j;
    }
  }
  if (stack.length > 0) {
    throw malformed(`document ends inside <${(stack[stack.length - 1] as Ec2XmlElement).name}>`, n, provider);
  }
  if (root === undefined) throw malformed('no root element', n, provider);
  return root;
}

/** The first child element called `name`, if any. */
export function xmlChild(el: Ec2XmlElement | undefined, name: string): Ec2XmlElement | undefined {
  if (el === undefined) return undefined;
  for (const child of el.children) if (child.name === name) return child;
  return undefined;
}

/** Follow a path of child names (`xmlPath(el, 'instanceState', 'name')`). */
export function xmlPath(el: Ec2XmlElement | undefined, ...names: string[]): Ec2XmlElement | undefined {
  let at = el;
  for (const name of names) at = xmlChild(at, name);
  return at;
}

/** The trimmed text of the child at `names`, or `undefined` when absent or empty. */
export function xmlText(el: Ec2XmlElement | undefined, ...names: string[]): string | undefined {
  const found = xmlPath(el, ...names);
  if (found === undefined) return undefined;
  const text = found.text.trim();
  return text === '' ? undefined : text;
}

/**
 * The exact text of the child at `names` (not trimmed: EC2 tag keys and values keep their spaces),
 * or `undefined` when the element is absent.
 */
export function xmlRawText(el: Ec2XmlElement | undefined, ...names: string[]): string | undefined {
  return xmlPath(el, ...names)?.text;
}

/** The `<item>` children of the EC2 list element at `names` (`xmlItems(el, 'reservationSet')`). */
export function xmlItems(el: Ec2XmlElement | undefined, ...names: string[]): Ec2XmlElement[] {
  return xmlPath(el, ...names)?.children.filter((c) => c.name === 'item') ?? [];
}

/** An EC2 `<Response><Errors><Error>` body, read into its code and message. */
export interface Ec2XmlError {
  code: string;
  message: string;
  requestId?: string;
}

/**
 * Read an EC2 error body (`<Response><Errors><Error><Code>…`, also `<ErrorResponse><Error>`),
 * or `undefined` when the text is not one.
 */
export function parseEc2Error(xml: string): Ec2XmlError | undefined {
  let root: Ec2XmlElement;
  try {
    root = parseEc2Xml(xml);
  } catch {
    return undefined;
  }
  const error = xmlPath(root, 'Errors', 'Error') ?? xmlChild(root, 'Error');
  const code = xmlText(error, 'Code');
  if (code === undefined) return undefined;
  const requestId = xmlText(root, 'RequestID') ?? xmlText(root, 'RequestId');
  return {
    code,
    message: xmlText(error, 'Message') ?? code,
    ...(requestId === undefined ? {} : { requestId }),
  };
}
