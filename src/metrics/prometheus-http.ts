import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  type PrometheusFormat,
  type PrometheusInput,
  type PrometheusOptions,
  toPrometheusText,
} from './prometheus.js';

/** Longest `Accept` header read; the rest is ignored. */
const MAX_ACCEPT = 4096;

/**
 * The format to answer a scrape with, from its `Accept` header (RFC 9110 weights): OpenMetrics 1.0
 * when `application/openmetrics-text` (version 1.0.0, 0.0.1 or none) is weighted above
 * `text/plain`, else the 0.0.4 text format — also for a missing or unknown header. Linear in the
 * header's length (at most 4 KiB is read).
 *
 * @example
 * ```ts
 * negotiatePrometheusFormat('application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.2');
 * // 'openmetrics'
 * ```
 */
export function negotiatePrometheusFormat(accept: string | undefined): PrometheusFormat {
  if (typeof accept !== 'string' || accept === '') return 'text';
  let om = 0;
  let text = 0;
  let any = 0;
  for (const range of accept.slice(0, MAX_ACCEPT).split(',')) {
    const parts = range.split(';');
    const type = parts[0]!.trim().toLowerCase();
    let q = 1;
    let version: string | undefined;
    for (let i = 1; i < parts.length; i++) {
      const eq = parts[i]!.indexOf('=');
      if (eq < 0) continue;
      const key = parts[i]!.slice(0, eq).trim().toLowerCase();
      const value = parts[i]!.slice(eq + 1).trim();
      if (key === 'q') {
        const n = Number(value);
        q = Number.isFinite(n) && n >= 0 && n <= 1 ? n : 0;
      } else if (key === 'version') version = value;
    }
    if (
      type === 'application/openmetrics-text' &&
      (version === undefined || version === '1.0.0' || version === '0.0.1')
    )
      om = Math.max(om, q);
    else if (type === 'text/plain' && (version === undefined || version === '0.0.4'))
      text = Math.max(text, q);
    else if (type === '*/*' || type === 'text/*') any = Math.max(any, q);
  }
  return om > 0 && om > Math.max(text, any) ? 'openmetrics' : 'text';
}

/** Options of {@link prometheusHandler}: those of {@link toPrometheusText}, the format aside. */
export type PrometheusHandlerOptions = Omit<PrometheusOptions, 'format'>;

/**
 * A ready `(req, res)` handler for `/metrics`: answers GET and HEAD with the exposition of `source`
 * in the format the `Accept` header asks for (`Vary: Accept`, never cached), 405 for other methods,
 * and 500 with the error code (never a half-written or invalid scrape) when the exposition fails.
 *
 * @example
 * ```ts
 * const metrics = prometheusHandler(registry);
 * http.createServer((req, res) => (req.url === '/metrics' ? metrics(req, res) : app(req, res)));
 * ```
 */
export function prometheusHandler(
  source: PrometheusInput,
  options: PrometheusHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('method not allowed\n');
      return;
    }
    const format = negotiatePrometheusFormat(req.headers.accept);
    let body: string;
    try {
      body = toPrometheusText(source, { ...options, format });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      res
        .writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
        .end(`exposition failed: ${typeof code === 'string' ? code : 'E_INTERNAL'}\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE,
      'cache-control': 'no-store',
      vary: 'Accept',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
