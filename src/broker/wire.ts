/** Constants, types and series keys of the broker wire protocol, shared by its encoder and decoder (see protocol.ts). */
import { FleetwatchError } from '../errors.js';
import type { MetricKind } from '../metrics/types.js';
import type { CombinePolicy } from '../metrics-store/types.js';

/** The two magic bytes every frame starts with ('FW' read as little-endian u16). */
export const FRAME_MAGIC = 0x5746;
/** The protocol version this module speaks. */
export const PROTOCOL_VERSION = 1;
/** Frame type of a window of series deltas (client → broker). */
export const FRAME_WINDOW = 1;
/** Frame type of an acknowledgement (broker → client). */
export const FRAME_ACK = 2;
/** Largest frame body accepted by default: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Bytes before a frame body: the u32 length. */
export const LENGTH_BYTES = 4;

export const HEADER_BYTES = 4; // magic, version, type
/** Wire codes are indexes into these lists: append only, never reorder. */
export const KINDS: readonly MetricKind[] = ['counter', 'gauge', 'meter', 'histogram'];
export const POLICIES: readonly CombinePolicy[] = ['last', 'sum', 'min', 'max', 'avg'];
export const KIND_CODE = codes(KINDS);
export const POLICY_CODE = codes(POLICIES);

/** Each name's index in `names`: its wire code. */
function codes<T extends string>(names: readonly T[]): Readonly<Record<T, number>> {
  return Object.fromEntries(names.map((name, i) => [name, i])) as Record<T, number>;
}

/** One series as it travels: a canonical key and either a number or an encoded sketch. */
export interface WireSeries {
  /** `wireSeriesKey` of the metric name and tags. */
  key: string;
  kind: MetricKind;
  /** Gauge policy (`last` for other kinds). */
  policy: CombinePolicy;
  /** counter/meter: the increase; gauge: the value. 0 for histograms. */
  value: number;
  /** Histograms: the encoded sketch (a view into the frame when decoded). */
  sketch?: Uint8Array;
}

/** The header of a WINDOW frame. */
export interface WindowHeader {
  /** Who sent it (a process or host id). */
  sourceId: string;
  /** Random per client instance: a restarted process with the same sourceId starts a new stream. */
  epoch: number;
  /** Sequence number within (sourceId, epoch), from 0, one per window frame. */
  seq: number;
  /** Window start, epoch ms. */
  windowStart: number;
  /** Window length, ms. */
  intervalMs: number;
}

/** A decoded WINDOW frame. */
export interface WindowFrame extends WindowHeader {
  type: typeof FRAME_WINDOW;
  series: WireSeries[];
}

/** A decoded ACK frame. */
export interface AckFrame {
  type: typeof FRAME_ACK;
  epoch: number;
  seqs: number[];
}

/** Any decoded frame. */
export type Frame = WindowFrame | AckFrame;

/** The `E_MALFORMED_FRAME` error of a malformed frame, `position` = the byte offset at fault. */
export function frameError(message: string, position?: number): FleetwatchError {
  return new FleetwatchError(
    'E_MALFORMED_FRAME',
    `malformed frame: ${message}`,
    position === undefined ? {} : { position },
  );
}

/**
 * The canonical wire key of a series: name, then tags sorted by key, joined with `\0`. Names, tag
 * keys and tag values never contain `\0` (the store refuses control characters).
 */
export function wireSeriesKey(name: string, tags: Readonly<Record<string, string>> | undefined): string {
  if (tags === undefined) return name;
  const keys = Object.keys(tags);
  if (keys.length === 0) return name;
  if (keys.length > 1) keys.sort();
  let out = name;
  for (const k of keys) out += `\0${k}\0${tags[k]}`;
  return out;
}

/** The name and tags of a wire key; undefined when it is not well formed (odd number of parts). */
export function parseWireSeriesKey(key: string): { name: string; tags: Record<string, string> } | undefined {
  const parts = key.split('\0');
  if (parts.length % 2 !== 1) return undefined;
  const tags: Record<string, string> = {};
  for (let i = 1; i < parts.length; i += 2) tags[parts[i] as string] = parts[i + 1] as string;
  return { name: parts[0] as string, tags };
}
