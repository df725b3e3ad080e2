/**
 * The event stream (`GET /api/v1/events`, Server-Sent Events): every event is serialised once into a
 * frame, kept in a bounded replay ring for `Last-Event-ID`, and written to every client. A client whose
 * unread bytes pass the cap is dropped and counted, never buffered without bound.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DashboardEventMap, DashboardEventName } from './types.js';

interface Frame {
  id: number;
  text: string;
}

interface Client {
  res: ServerResponse;
}

/** Options of {@link EventHub}. */
export interface EventHubOptions {
  replayBuffer: number;
  heartbeatMs: number;
  maxClients: number;
  maxClientBufferBytes: number;
}

/** Fan-out of dashboard events to SSE clients, with replay. */
export class EventHub {
  readonly #o: EventHubOptions;
  readonly #ring: (Frame | undefined)[];
  #next = 1;
  readonly #clients = new Set<Client>();
  readonly #timer: NodeJS.Timeout;
  #dropped = 0;
  #refused = 0;
  #closed = false;

  constructor(o: EventHubOptions) {
    this.#o = o;
    this.#ring = new Array(o.replayBuffer);
    this.#timer = setInterval(() => this.#broadcast(': hb\n\n'), o.heartbeatMs);
    this.#timer.unref();
  }

  /** Clients connected now. */
  get clients(): number {
    return this.#clients.size;
  }
  /** Clients dropped for reading too slowly. */
  get dropped(): number {
    return this.#dropped;
  }
  /** Clients refused at `maxClients`. */
  get refused(): number {
    return this.#refused;
  }
  /** Id of the newest event (0 before the first). */
  get lastId(): number {
    return this.#next - 1;
  }

  /** Serialise an event once, keep it for replay and send it to every client. */
  publish<K extends DashboardEventName>(name: K, data: DashboardEventMap[K]): void {
    if (this.#closed) return;
    const id = this.#next++;
    // JSON.stringify never emits a raw newline, so one `data:` line carries the event
    const text = `id: ${id}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    this.#ring[id % this.#ring.length] = { id, text };
    this.#broadcast(text);
  }

  #broadcast(text: string): void {
    for (const c of this.#clients) this.#write(c, text);
  }

  #write(c: Client, text: string): void {
    const res = c.res;
    if (res.writableLength > this.#o.maxClientBufferBytes) {
      this.#dropped++;
      this.#clients.delete(c);
      res.destroy();
      return;
    }
    res.write(text);
  }

  /**
   * Take over a request as a stream: headers, the events after `Last-Event-ID` (or `reset` when they
   * are no longer kept), then live events. Returns false (and answers 429) at `maxClients`.
   */
  attach(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.#clients.size >= this.#o.maxClients) {
      this.#refused++;
      return false;
    }
    const headers: Record<string, string> = {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    };
    if (req.httpVersionMajor === 1) headers.connection = 'keep-alive';
    res.writeHead(200, headers);
    req.socket.setNoDelay(true);
    const client: Client = { res };
    res.write('retry: 2000\n\n');
    const raw = req.headers['last-event-id'];
    const from = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
    if (from !== undefined && from !== this.lastId) {
      const oldest = Math.max(1, this.#next - this.#ring.length);
      // too old for the ring, or from before a restart (ids ahead of ours): the page refetches
      if (from + 1 < oldest || from > this.lastId) {
        res.write(`id: ${this.lastId}\nevent: reset\ndata: ${JSON.stringify({ oldest })}\n\n`);
      } else {
        for (let id = from + 1; id < this.#next; id++) {
          const f = this.#ring[id % this.#ring.length];
          if (f?.id === id) res.write(f.text);
        }
      }
    }
    this.#clients.add(client);
    const done = () => this.#clients.delete(client);
    res.on('close', done);
    res.on('error', done);
    return true;
  }

  /** End every stream and stop the heartbeat. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const c of this.#clients) {
      c.res.end();
      c.res.socket?.destroySoon();
    }
    this.#clients.clear();
  }
}
