/**
 * The page's static files: read once at start into a map keyed by URL path (exact lookup, so no path
 * traversal), gzip- and brotli-compressed once, served with an ETag and long caching for the vendor
 * files.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { FleetwatchError } from '../errors.js';

interface Asset {
  body: Buffer;
  gzip: Buffer;
  br: Buffer;
  etag: string;
  type: string;
  cache: string;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

/** The page's own files (in `assets/` beside the entry module). */
export const PAGE_FILES = ['index.html', 'app.js', 'app.css', 'format.js', 'dom.js', 'charts.js'] as const;
/** uPlot's files, vendored into `assets/vendor/` at build (read from node_modules when running from source). */
export const VENDOR_FILES = {
  'uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
} as const;

function load(path: string, name: string): Asset {
  const body = readFileSync(path);
  const ext = name.slice(name.lastIndexOf('.') + 1);
  return {
    body,
    gzip: gzipSync(body, { level: 9 }),
    br: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    type: TYPES[ext] ?? 'application/octet-stream',
    cache: name.startsWith('vendor/') ? 'public, max-age=86400' : 'no-cache',
  };
}

/**
 * Read the page's files from `dir` (a file URL ending in `/`). Throws `E_CONFIG` when one is missing
 * (a broken install).
 */
export function loadAssets(dir: URL): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const name of PAGE_FILES) {
    const path = fileURLToPath(new URL(name, dir));
    if (!existsSync(path)) throw new FleetwatchError('E_CONFIG', `dashboard asset missing: ${name}`);
    out.set(name === 'index.html' ? '/' : `/assets/${name}`, load(path, name));
  }
  const require = createRequire(dir);
  for (const [name, fromModules] of Object.entries(VENDOR_FILES)) {
    let path = fileURLToPath(new URL(`vendor/${name}`, dir));
    if (!existsSync(path)) {
      try {
        path = require.resolve(fromModules);
      } catch {
        throw new FleetwatchError('E_CONFIG', `dashboard asset missing: vendor/${name}`);
      }
    }
    out.set(`/assets/vendor/${name}`, load(path, `vendor/${name}`));
  }
  return out;
}

/** Total gzipped bytes of the page (what a first visit downloads). */
export function gzippedSize(assets: Map<string, Asset>): number {
  let n = 0;
  for (const a of assets.values()) n += a.gzip.length;
  return n;
}

/** Serve one asset (GET/HEAD), honouring `If-None-Match` and `Accept-Encoding`. */
export function serveAsset(req: IncomingMessage, res: ServerResponse, a: Asset): void {
  res.setHeader('content-type', a.type);
  res.setHeader('cache-control', a.cache);
  res.setHeader('etag', a.etag);
  res.setHeader('vary', 'accept-encoding');
  if (req.headers['if-none-match'] === a.etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  const enc = String(req.headers['accept-encoding'] ?? '');
  let body = a.body;
  if (/\bbr\b/.test(enc)) {
    body = a.br;
    res.setHeader('content-encoding', 'br');
  } else if (/\bgzip\b/.test(enc)) {
    body = a.gzip;
    res.setHeader('content-encoding', 'gzip');
  }
  res.setHeader('content-length', body.length);
  res.statusCode = 200;
  res.end(req.method === 'HEAD' ? undefined : body);
}
