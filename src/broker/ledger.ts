/** Where a frame's ACKs go: the connection it came on. */
export type Reply = (ack: Buffer) => void;

/** Int32 fields per entry: hash a, hash b, seq, epoch, reply index. */
const STRIDE = 5;

/**
 * The frames merged into one window, to be released and acknowledged once it is durable: one
 * entry of five int32 per frame in one growable typed array (no object and no string per frame,
 * so a flood of new sources costs a window 20 bytes per frame, off the JS heap). An entry names its
 * stream by its 64 bits of hash (`StreamHasher` in sources.ts), and the connection its ACK goes to if the
 * stream is no longer in the source table by then.
 *
 * @internal
 * @example
 * ```ts
 * const ledger = new FrameLedger();
 * ledger.push(0x1234, 0x5678, 42, 7, reply); // stream hashes, seq 42, epoch 7
 * ledger.seq(0); // → 42
 * ```
 */
export class FrameLedger {
  #log = new Int32Array(16 * STRIDE);
  #n = 0;
  readonly #replies: Reply[] = [];
  readonly #replyIndex = new Map<Reply, number>();

  /** Entries recorded. */
  get length(): number {
    return this.#n;
  }

  /** Record a frame. */
  push(a: number, b: number, seq: number, epoch: number, reply: Reply | undefined): void {
    let log = this.#log;
    if ((this.#n + 1) * STRIDE > log.length) {
      const next = new Int32Array(log.length * 2);
      next.set(log);
      this.#log = log = next;
    }
    let r = -1;
    if (reply !== undefined) {
      r = this.#replyIndex.get(reply) ?? -1;
      if (r === -1) {
        r = this.#replies.push(reply) - 1;
        this.#replyIndex.set(reply, r);
      }
    }
    const at = this.#n++ * STRIDE;
    log[at] = a;
    log[at + 1] = b;
    log[at + 2] = seq;
    log[at + 3] = epoch;
    log[at + 4] = r;
  }

  hashA(i: number): number {
    return this.#log[i * STRIDE] as number;
  }
  hashB(i: number): number {
    return this.#log[i * STRIDE + 1] as number;
  }
  seq(i: number): number {
    return (this.#log[i * STRIDE + 2] as number) >>> 0;
  }
  epoch(i: number): number {
    return (this.#log[i * STRIDE + 3] as number) >>> 0;
  }
  /** The connection recorded with the entry (where its ACK goes once its stream is forgotten). */
  reply(i: number): Reply | undefined {
    const r = this.#log[i * STRIDE + 4] as number;
    return r === -1 ? undefined : this.#replies[r];
  }

  /** Forget every entry (after the window's ACKs were sent). */
  clear(): void {
    this.#n = 0;
    this.#log = new Int32Array(16 * STRIDE);
    this.#replies.length = 0;
    this.#replyIndex.clear();
  }
}
