/**
 * A minimal Server-Sent Events reader over node:http for the stream tests: frames parsed as the
 * browser does (id, event, data), with the Last-Event-ID header on connect.
 */
import { get, type IncomingMessage } from 'node:http';
import { onSseBlocks } from '../helpers/sse.js';
import { TOKEN } from './fleet.js';

export interface SseFrame {
  id?: string;
  event: string;
  data: string;
}

export interface SseClient {
  res: IncomingMessage;
  frames: SseFrame[];
  comments: number;
  /** Resolves once a frame matching `pred` has arrived. */
  waitFor(pred: (f: SseFrame) => boolean, timeoutMs?: number): Promise<SseFrame>;
  close(): void;
}

export function openStream(
  url: string,
  opts: { lastEventId?: string; token?: string } = {},
): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${opts.token ?? TOKEN}`,
      accept: 'text/event-stream',
    };
    if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId;
    const req = get(new URL('api/v1/events', url), { headers }, (res) => {
      const client: SseClient = {
        res,
        frames: [],
        comments: 0,
        waitFor(pred, timeoutMs = 5000) {
          const hit = client.frames.find(pred);
          if (hit) return Promise.resolve(hit);
          return new Promise((ok, fail) => {
            const t = setTimeout(() => {
              res.off('frame', on);
              fail(new Error('timed out waiting for an SSE frame'));
            }, timeoutMs);
            const on = (f: SseFrame) => {
              if (!pred(f)) return;
              clearTimeout(t);
              res.off('frame', on);
              ok(f);
            };
            res.on('frame', on);
          });
        },
        close: () => req.destroy(),
      };
      onSseBlocks(res, (block) => {
        const f: SseFrame = { event: 'message', data: '' };
        let data = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) client.comments++;
          else if (line.startsWith('id: ')) f.id = line.slice(4);
          else if (line.startsWith('event: ')) f.event = line.slice(7);
          else if (line.startsWith('data: ')) {
            f.data = line.slice(6);
            data = true;
          }
        }
        if (data) {
          client.frames.push(f);
          res.emit('frame', f);
        }
      });
      res.on('error', () => {});
      resolve(client);
    });
    req.on('error', reject);
  });
}
