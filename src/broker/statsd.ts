/**
 * StatsD / DogStatsD ingest for non-Node senders: a single-pass, linear-time line parser and a UDP
 * listener.
 *
 * Accepted line: `name:value[:value…]|type[|@rate][|#tag:v,tag2][|…]`, several per datagram separated
 * by `\n`. Types `c` (counter), `g` (gauge; a leading `+`/`-` makes it a delta), `ms`, `h`, `d`
 * (all recorded into a sketch), `s` (set: unique members per window). `@rate` in (0, 1] scales
 * counters by 1/rate and weights samples; bare tags get the value `true`; unknown `|` sections
 * (DogStatsD `c:` container ids, `T` timestamps) are ignored. A line is taken whole or not at all.
 */
import { createSocket, type Socket } from 'node:dgram';

/** The StatsD types understood. */
export type StatsdType = 'c' | 'g' | 'ms' | 'h' | 'd' | 's';

/** Longest StatsD line accepted by default, in characters; longer lines are dropped and counted. */
export const DEFAULT_MAX_STATSD_LINE_LENGTH = 4096;

/** One parsed value. A packed line (`a:1:2|ms`) yields one per value. */
export interface StatsdMetric {
  name: string;
  type: StatsdType;
  /** The number (0 for sets). */
  value: number;
  /** Gauges only: the value had a `+`/`-` sign and is a change, not a new value. */
  delta: boolean;
  /** Sets only: the member. */
  member: string;
  /** Sample rate in (0, 1]; 1 when absent. */
  rate: number;
  /** DogStatsD tags, or undefined when none. */
  tags: Record<string, string> | undefined;
}

/** One whole, checked StatsD line. */
export interface StatsdLine {
  name: string;
  type: StatsdType;
  /** The numbers of the line (empty for sets). */
  values: number[];
  /** Gauges: per value, whether it had a `+`/`-` sign (a change, not a new value). */
  deltas: boolean[];
  /** Sets: the member (one per line). */
  members: string[];
  /** Sample rate in (0, 1]; 1 when absent. */
  rate: number;
  /** DogStatsD tags, or undefined when none. */
  tags: Record<string, string> | undefined;
}

/** Why a line was refused. */
export type StatsdRejectReason = 'tooLong' | 'syntax' | 'number';

/** Counts from one packet. */
export interface StatsdParseResult {
  /** Non-empty lines seen. */
  lines: number;
  /** Lines rejected (each dropped whole): the sum of the three reasons below. */
  bad: number;
  /** Lines longer than the limit. */
  tooLong: number;
  /** Lines without `:` or `|`, with an unknown type, an empty name, section or tag key, or a bad rate. */
  syntax: number;
  /** Lines with a value that is not a finite decimal number. */
  number: number;
}

/** Options of {@link parseStatsdLines}. */
export interface StatsdParseOptions {
  /** Longest line, characters. @default 4096 ({@link DEFAULT_MAX_STATSD_LINE_LENGTH}) */
  maxLineLength?: number;
}

const TYPES = new Set<string>(['c', 'g', 'ms', 'h', 'd', 's']);

/** True when `text[start, end)` is a decimal number (`-1`, `+.5`, `3.`, `1e-3`), checked in one pass. */
function isDecimal(text: string, start: number, end: number): boolean {
  let i = start;
  let c = text.charCodeAt(i);
  if (c === 43 || c === 45) c = text.charCodeAt(++i); // + -
  let digits = 0;
  while (i < end && c >= 48 && c <= 57) {
    digits++;
    c = text.charCodeAt(++i);
  }
  if (i < end && c === 46) {
    c = text.charCodeAt(++i);
    while (i < end && c >= 48 && c <= 57) {
      digits++;
      c = text.charCodeAt(++i);
    }
  }
  if (digits === 0) return false;
  if (i < end && (c === 101 || c === 69)) {
    c = text.charCodeAt(++i);
    if (c === 43 || c === 45) c = text.charCodeAt(++i);
    let exp = 0;
    while (i < end && c >= 48 && c <= 57) {
      exp++;
      c = text.charCodeAt(++i);
    }
    if (exp === 0) return false;
  }
  return i === end;
}

/** A finite number from `text[start, end)`, or undefined. */
function readNumber(text: string, start: number, end: number): number | undefined {
  if (start >= end) return undefined;
  // Fast path: up to 15 plain digits (exact in a double) are summed as they are read.
  let v = 0;
  let i = start;
  for (; i < end && i - start < 15; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  if (i === end) return v;
  if (!isDecimal(text, start, end)) return undefined;
  const n = Number(text.slice(start, end));
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Parse a packet (or a string of lines) and call `onLine` once for every whole, valid line. A bad
 * line is counted by reason and skipped; the rest of the packet is still read. Runs in time linear in
 * the packet's length and never throws on input.
 *
 * @example
 * ```ts
 * const r = parseStatsdLines('hits:1|c|#env:prod\nbad', (line) => console.log(line.name, line.values));
 * r.bad; // 1
 * ```
 */
export function parseStatsdLines(
  packet: string | Buffer,
  onLine: (line: StatsdLine) => void,
  options: StatsdParseOptions = {},
): StatsdParseResult {
  const text = typeof packet === 'string' ? packet : packet.toString('utf8');
  const max = options.maxLineLength ?? DEFAULT_MAX_STATSD_LINE_LENGTH;
  const result: StatsdParseResult = { lines: 0, bad: 0, tooLong: 0, syntax: 0, number: 0 };
  let start = 0;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = n;
    let lineEnd = end;
    if (lineEnd > start && text.charCodeAt(lineEnd - 1) === 13) lineEnd--; // \r
    if (lineEnd > start) {
      result.lines++;
      if (lineEnd - start > max) {
        result.bad++;
        result.tooLong++;
      } else {
        // Parsed on its own copy so no search can run past the line's end.
        const one = text.slice(start, lineEnd);
        const line = parseLine(one, 0, one.length);
        if (typeof line === 'string') {
          result.bad++;
          result[line]++;
        } else onLine(line);
      }
    }
    start = end + 1;
  }
  return result;
}

/**
 * Parse a packet and call `onMetric` for every value of every valid line (a line's values are
 * delivered only once the whole line is known to be good). See {@link parseStatsdLines}.
 *
 * @example
 * ```ts
 * parseStatsd('lat:1:2|ms', (m) => console.log(m.value)); // 1, 2
 * ```
 */
export function parseStatsd(
  packet: string | Buffer,
  onMetric: (m: StatsdMetric) => void,
  options: StatsdParseOptions = {},
): StatsdParseResult {
  return parseStatsdLines(
    packet,
    (l) => {
      const base = { name: l.name, type: l.type, rate: l.rate, tags: l.tags };
      if (l.type === 's') onMetric({ ...base, value: 0, delta: false, member: l.members[0] as string });
      else
        for (let i = 0; i < l.values.length; i++)
          onMetric({ ...base, value: l.values[i] as number, delta: l.deltas[i] as boolean, member: '' });
    },
    options,
  );
}

function parseLine(text: string, start: number, end: number): StatsdLine | 'syntax' | 'number' {
  const colon = text.indexOf(':', start);
  if (colon <= start || colon >= end) return 'syntax';
  const pipe = text.indexOf('|', colon);
  if (pipe === -1 || pipe >= end || pipe === colon + 1) return 'syntax';
  const name = text.slice(start, colon);
  let typeEnd = text.indexOf('|', pipe + 1);
  if (typeEnd === -1 || typeEnd > end) typeEnd = end;
  const type = text.slice(pipe + 1, typeEnd);
  if (!TYPES.has(type)) return 'syntax';
  let rate = 1;
  let tags: Record<string, string> | undefined;
  let pos = typeEnd;
  while (pos < end) {
    let next = text.indexOf('|', pos + 1);
    if (next === -1 || next > end) next = end;
    const c = text.charCodeAt(pos + 1);
    if (c === 64 /* @ */) {
      const r = readNumber(text, pos + 2, next);
      if (r === undefined || !(r > 0 && r <= 1)) return 'syntax';
      rate = r;
    } else if (c === 35 /* # */) {
      tags = parseTags(text, pos + 2, next, tags);
      if (tags === undefined) return 'syntax';
    } else if (next === pos + 1) return 'syntax'; // empty section
    pos = next;
  }
  const line: StatsdLine = {
    name,
    type: type as StatsdType,
    values: [],
    deltas: [],
    members: [],
    rate,
    tags,
  };
  if (type === 's') {
    if (text.indexOf(':', colon + 1) < pipe && text.indexOf(':', colon + 1) !== -1) return 'syntax';
    line.members.push(text.slice(colon + 1, pipe));
    return line;
  }
  let v = colon + 1;
  while (v <= pipe) {
    let sep = text.indexOf(':', v);
    if (sep === -1 || sep > pipe) sep = pipe;
    const value = readNumber(text, v, sep);
    if (value === undefined) return 'number';
    line.values.push(value);
    const c0 = text.charCodeAt(v);
    line.deltas.push(type === 'g' && (c0 === 43 || c0 === 45));
    v = sep + 1;
  }
  return line;
}

function parseTags(
  text: string,
  start: number,
  end: number,
  into: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (start >= end) return undefined;
  const tags = into ?? (Object.create(null) as Record<string, string>);
  let pos = start;
  let colon = -1;
  // One pass: each character is looked at once.
  for (let i = start; i <= end; i++) {
    const c = i === end ? 44 : text.charCodeAt(i);
    if (c === 58 /* : */ && colon === -1) colon = i;
    else if (c === 44 /* , */) {
      if (colon !== -1) {
        if (colon === pos || colon === i - 1) return undefined;
        tags[text.slice(pos, colon)] = text.slice(colon + 1, i);
      } else {
        if (i === pos) return undefined;
        tags[text.slice(pos, i)] = 'true';
      }
      pos = i + 1;
      colon = -1;
    }
  }
  return tags;
}

/** Options of {@link listenStatsd}. */
export interface StatsdListenOptions {
  /** UDP port; 0 picks a free one. */
  port: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Kernel receive buffer, bytes. @default 8 MiB (lossless to ~500k lines/s in our measurements) */
  recvBufferSize?: number;
  /** Called with each datagram. */
  onPacket(packet: Buffer): void;
  /** Called for socket errors (counted by the broker; the socket stays open). */
  onError(err: Error): void;
}

/** A bound StatsD UDP socket. */
export interface StatsdListener {
  /** The bound port. */
  readonly port: number;
  close(): Promise<void>;
}

/** Bind a UDP socket for StatsD lines. */
export async function listenStatsd(opts: StatsdListenOptions): Promise<StatsdListener> {
  const host = opts.host ?? '127.0.0.1';
  const socket: Socket = createSocket({
    type: host.includes(':') ? 'udp6' : 'udp4',
    recvBufferSize: opts.recvBufferSize ?? 8 * 1024 * 1024,
  });
  socket.on('message', (msg) => opts.onPacket(msg));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', (err) => opts.onError(err));
  const port = socket.address().port;
  let closed: Promise<void> | undefined;
  return {
    port,
    close() {
      closed ??= new Promise<void>((resolve) => socket.close(() => resolve()));
      return closed;
    },
  };
}
