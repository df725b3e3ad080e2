/**
 * The seam through which decoded input from any transport other than the broker's own socket protocol
 * (StatsD today, OTLP/HTTP) enters a broker's current window. A batch is applied whole or not at all:
 * it is validated first, and only a batch with no invalid item touches the window.
 *
 * @internal
 */
import type { DDSketch } from '../metrics/sketch.js';

/** One decoded value for the current window. Counter values are deltas; a histogram is a delta sketch. */
export type IngestItem =
  | { kind: 'counter'; name: string; tags: Readonly<Record<string, string>>; value: number }
  | { kind: 'gauge'; name: string; tags: Readonly<Record<string, string>>; value: number }
  | { kind: 'histogram'; name: string; tags: Readonly<Record<string, string>>; sketch: DDSketch }
  /** Raw samples recorded into the window's sketch (StatsD `ms`/`h`/`d`), each `weight` times. */
  | {
      kind: 'samples';
      name: string;
      tags: Readonly<Record<string, string>>;
      values: readonly number[];
      weight: number;
    }
  /** Members of a set: the window counts distinct members (StatsD `s`). */
  | { kind: 'set'; name: string; tags: Readonly<Record<string, string>>; members: readonly string[] };

/** A batch from one sender (`source`: a stable id of the sending process or connection). */
export interface IngestBatch {
  source: string;
  items: readonly IngestItem[];
}

/** What became of a batch: all items accepted, or none, with the reason counted by the broker. */
export type IngestResult =
  | { accepted: number }
  | { accepted: 0; rejected: number; reason: string; field?: string };
