/**
 * The demo's local servers, each on its own loopback address so one port serves them all:
 * a healthy, a slow and a failing HTTP server, and an HTTPS server whose certificate expires soon.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';

/** One demo server. */
export interface DemoServer {
  name: string;
  role: 'web' | 'edge';
  ip: string;
  port: number;
  behaviour: 'healthy' | 'slow' | 'failing' | 'expiring-cert';
}

/** The running servers and how to stop them. */
export interface DemoServers {
  servers: DemoServer[];
  httpPort: number;
  httpsPort: number;
  /** The expiring certificate (PEM), for checks that trust it. */
  ca: string;
  close(): Promise<void>;
}

const SLOW_MS = 300;

async function listen(server: Server, ip: string, port: number): Promise<number> {
  server.listen(port, ip);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Start the servers. The HTTP port is picked on the first address and reused on the others. */
export async function startDemoServers(): Promise<DemoServers> {
  const started: Server[] = [];
  const handler = (behaviour: DemoServer['behaviour']) =>
    ((req, res) => {
      const reply = (status: number, body: string) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body);
      };
      if (behaviour === 'failing') return reply(500, '{"status":"DOWN"}');
      if (behaviour === 'slow') {
        const t = setTimeout(() => reply(200, '{"status":"UP"}'), SLOW_MS + Math.random() * 200);
        req.on('close', () => clearTimeout(t));
        return;
      }
      reply(200, `{"status":"UP","path":${JSON.stringify(req.url ?? '/')}}`);
    }) satisfies Parameters<typeof createHttpServer>[1];

  const plan: Array<Omit<DemoServer, 'port'>> = [
    { name: 'web-1', role: 'web', ip: '127.0.0.11', behaviour: 'healthy' },
    { name: 'web-2', role: 'web', ip: '127.0.0.12', behaviour: 'slow' },
    { name: 'web-3', role: 'web', ip: '127.0.0.13', behaviour: 'failing' },
  ];
  let httpPort = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      httpPort = 0;
      for (const s of plan) {
        const server = createHttpServer(handler(s.behaviour));
        started.push(server);
        httpPort = await listen(server, s.ip, httpPort);
      }
      break;
    } catch (err) {
      // the port picked on the first address was taken on another one: start over
      await Promise.all(started.splice(0).map((s) => new Promise((r) => s.close(r))));
      if (attempt === 4) throw err;
    }
  }

  // A certificate that expires in three days: the TLS check should warn about it.
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: 'edge-1.demo' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 86_400_000),
    notAfterDate: new Date(now + 3 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.14' },
          { type: 2, value: 'edge-1.demo' },
        ],
      },
    ],
  });
  const tlsServer = createHttpsServer({ key: pems.private, cert: pems.cert }, handler('healthy'));
  started.push(tlsServer);
  const httpsPort = await listen(tlsServer, '127.0.0.14', 0);

  const servers: DemoServer[] = [
    ...plan.map((s) => ({ ...s, port: httpPort })),
    { name: 'edge-1', role: 'edge', ip: '127.0.0.14', port: httpsPort, behaviour: 'expiring-cert' },
  ];
  return {
    servers,
    httpPort,
    httpsPort,
    ca: pems.cert,
    async close() {
      for (const s of started) s.closeAllConnections?.();
      await Promise.all(started.map((s) => new Promise((r) => s.close(r))));
    },
  };
}
