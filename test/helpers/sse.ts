import type { IncomingMessage } from 'node:http';

/**
 * Reads `res` as UTF-8 Server-Sent Events and calls `each` with every complete block (the text
 * between blank lines, without them), as it arrives.
 */
export function onSseBlocks(res: IncomingMessage, each: (block: string) => void): void {
  let buf = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buf += chunk;
    let end = buf.indexOf('\n\n');
    while (end >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      end = buf.indexOf('\n\n');
      each(block);
    }
  });
}
