/**
 * A bench-only columnar encoding of one series' points for one block of time, to measure what a
 * block layout (one Cassandra row per series and hour instead of one per point) would cost on disk:
 * timestamps as zigzag varints of their delta-of-delta (0 for a steady interval), values XORed with the
 * previous value's IEEE-754 bits and stored as 8 byte planes (all first bytes, then all second bytes…),
 * so the table's Zstd finds the long runs of zero bytes that similar consecutive values leave. It is
 * a measurement prototype, not the store's format.
 */

/** Encodes points sorted by `ts` (integers, epoch ms) into one blob. */
export function encodeBlock(ts: readonly number[], values: readonly number[]): Buffer {
  const n = ts.length;
  const head: number[] = [];
  varint(head, n);
  let prev = 0;
  let prevDelta = 0;
  for (let i = 0; i < n; i++) {
    const t = ts[i] as number;
    const delta = i === 0 ? t : t - prev;
    varint(head, zigzag(i === 0 ? t : delta - prevDelta));
    prevDelta = i === 0 ? 0 : delta;
    prev = t;
  }
  const bits = new BigUint64Array(Float64Array.from(values).buffer);
  const planes = Buffer.alloc(8 * n);
  let last = 0n;
  for (let i = 0; i < n; i++) {
    const b = bits[i] as bigint;
    const x = b ^ last;
    last = b;
    for (let k = 0; k < 8; k++) planes[k * n + i] = Number((x >> BigInt(8 * (7 - k))) & 0xffn);
  }
  return Buffer.concat([Buffer.from(head), planes]);
}

/** Decodes {@link encodeBlock}'s blob. */
export function decodeBlock(blob: Buffer): { ts: number[]; values: number[] } {
  let pos = 0;
  const read = () => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const byte = blob[pos++] as number;
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 128;
    }
  };
  const n = read();
  const ts: number[] = [];
  let prev = 0;
  let prevDelta = 0;
  for (let i = 0; i < n; i++) {
    const z = unzigzag(read());
    if (i === 0) prev = z;
    else {
      prevDelta += z;
      prev += prevDelta;
    }
    ts.push(prev);
  }
  const bits = new BigUint64Array(n);
  let last = 0n;
  for (let i = 0; i < n; i++) {
    let x = 0n;
    for (let k = 0; k < 8; k++) x = (x << 8n) | BigInt(blob[pos + k * n + i] as number);
    last ^= x;
    bits[i] = last;
  }
  return { ts, values: Array.from(new Float64Array(bits.buffer)) };
}

function zigzag(v: number): number {
  return v >= 0 ? 2 * v : -2 * v - 1;
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Appends `v` (a non-negative safe integer) as a base-128 varint. */
function varint(out: number[], v: number): void {
  let x = v;
  while (x >= 0x80) {
    out.push((x % 128) | 0x80);
    x = Math.floor(x / 128);
  }
  out.push(x);
}
