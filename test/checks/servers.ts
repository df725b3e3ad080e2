/**
 * Local servers for check tests, all on 127.0.0.1: HTTP/HTTPS with routes, TCP banner/hang servers,
 * and a UDP DNS server answering with dns-packet. Each records the sockets it saw so tests can
 * assert that a client really closed its connection.
 */
import { createSocket } from 'node:dgram';
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { type AddressInfo, createServer as createTcp, type Server, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import { generate } from 'selfsigned';

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** A listening server plus the sockets it accepted and when each closed. */
export interface TestServer {
  port: number;
  sockets: Socket[];
  closed: Set<Socket>;
  close(): Promise<void>;
}

function track(server: Server): Pick<TestServer, 'sockets' | 'closed'> {
  const sockets: Socket[] = [];
  const closed = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.push(s);
    s.on('close', () => closed.add(s));
  });
  server.on('secureConnection', () => {});
  return { sockets, closed };
}

async function listen(server: Server): Promise<TestServer> {
  const t = track(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    ...t,
    close: () =>
      new Promise<void>((r) => {
        for (const s of t.sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** HTTP(S) server dispatching on the path; unknown paths 404. */
export function httpServer(routes: Record<string, Route>, tls?: { key: string; cert: string }) {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (route) route(req, res);
    else {
      res.statusCode = 404;
      res.end('not found');
    }
  };
  return listen(tls ? createHttps(tls, handler) : createHttp(handler));
}

/** A TCP server calling `onSocket` for each connection. */
export function tcpServer(onSocket: (s: Socket) => void) {
  return listen(createTcp(onSocket));
}

/** A self-signed certificate for 127.0.0.1/localhost, valid or expired. */
export async function certificate(expired = false) {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - (expired ? 10 : 1) * 86_400_000),
    notAfterDate: new Date(now + (expired ? -2 : 30) * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/** A port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const s = await listen(createTcp());
  await s.close();
  return s.port;
}

const RCODES: Record<string, number> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
};

/** A UDP DNS server: `answer(name, type)` returns records or an rcode. */
export async function dnsServer(
  answer: (
    name: string,
    type: string,
  ) => { rcode?: string; answers?: { type: 'A'; data: string; ttl: number }[]; drop?: boolean },
) {
  const sock = createSocket('udp4');
  let queries = 0;
  sock.on('message', (msg, rinfo) => {
    queries++;
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    if (!question) return;
    const a = answer(question.name, question.type);
    if (a.drop) return;
    const reply = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | RCODES[a.rcode ?? 'NOERROR']!,
      questions: [question],
      answers: (a.answers ?? []).map((r) => ({
        name: question.name,
        type: r.type,
        ttl: r.ttl,
        data: r.data,
      })),
    });
    sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return {
    port: sock.address().port,
    get queries() {
      return queries;
    },
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

/** Resolve when `cond()` holds, polling on real time (bounded). */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
