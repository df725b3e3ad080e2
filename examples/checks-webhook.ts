/**
 * Monitoring a service with CheckScheduler: an HTTP check with a Rackspace-style alarm and a TCP
 * check on the same host, every state change POSTed as JSON to a webhook (Slack-style relay,
 * PagerDuty bridge, your own API…) by `webhookNotifier`.
 *
 *   CHECK_URL=http://127.0.0.1:8080/health WEBHOOK_URL=http://127.0.0.1:9000/hooks \
 *     npx tsx examples/checks-webhook.ts            # WEBHOOK_TOKEN is sent as a bearer token if set
 *
 */
import { pathToFileURL } from 'node:url';
import {
  CheckScheduler,
  type CheckStateEvent,
  MemoryMetricsStore,
  type StateNotifier,
  webhookNotifier,
} from '@fleetwatch/sdk';

/** Options of {@link main}. */
export interface ChecksWebhookOptions {
  /** The URL the HTTP check requests; the TCP check connects to its host and port. */
  url: string;
  /** Where state changes are POSTed. */
  webhookUrl: string;
  /** Extra headers for the webhook (e.g. authorization). */
  webhookHeaders?: Record<string, string>;
  /** Check period, ms. @default 10000 */
  periodMs?: number;
  /** Stop after this many state changes. @default no limit */
  stopAfterStates?: number;
  /** Stop after this long at most, ms. @default 60000 */
  maxRunMs?: number;
  /** Where progress lines go. @default console.log */
  log?: (line: string) => void;
}

/** What happened while the checks ran. */
export interface ChecksWebhookResult {
  /** Every state change, in order. */
  states: Array<Pick<CheckStateEvent, 'checkId' | 'target' | 'previous' | 'state' | 'message'>>;
  /** Check runs. */
  runs: number;
  /** Webhook deliveries that succeeded and that failed (after got's retries). */
  delivered: number;
  failedDeliveries: number;
  /** Stored `check.duration` points, one per run. */
  storedDurations: number;
}

/**
 * The alarm judges every answer, whatever its status: an error status is CRITICAL, a slow answer a
 * WARNING. A failed run (connection refused, timeout, TLS failure) is CRITICAL with the run's error as
 * message.
 */
export const HTTP_ALARM = `
  if (metric['code'] >= 400) { return new AlarmStatus(CRITICAL, 'HTTP #{code}'); }
  if (metric['duration'] > 2000) { return new AlarmStatus(WARNING, 'slow: #{duration} ms'); }
  return new AlarmStatus(OK, 'HTTP #{code}');`;

/** Run the checks until `stopAfterStates` state changes or `maxRunMs`, then stop. */
export async function main(options: ChecksWebhookOptions): Promise<ChecksWebhookResult> {
  const log = options.log ?? console.log;
  const periodMs = options.periodMs ?? 10_000;
  const { hostname, port, protocol } = new URL(options.url);

  // The notifier is webhookNotifier plus counting; scheduler.stop() waits for deliveries in flight.
  const webhook = webhookNotifier({
    url: options.webhookUrl,
    headers: options.webhookHeaders ?? {},
    retries: 2,
  });
  let delivered = 0;
  let failedDeliveries = 0;
  const notify: StateNotifier = (event, opts) =>
    webhook(event, opts).then(
      () => {
        delivered++;
      },
      (err: unknown) => {
        failedDeliveries++;
        throw err; // reported on the scheduler's 'error' event
      },
    );

  const store = new MemoryMetricsStore();
  const scheduler = new CheckScheduler({ store, notifiers: [notify], flushIntervalMs: 1000 });
  scheduler.add({
    id: 'web-http',
    type: 'http',
    targets: options.url,
    periodMs,
    timeoutMs: Math.min(5000, Math.floor(periodMs * 0.8)),
    alarm: HTTP_ALARM,
  });
  scheduler.add({
    id: 'web-tcp',
    type: 'tcp',
    targets: `${hostname}:${port || (protocol === 'https:' ? 443 : 80)}`,
    periodMs,
    timeoutMs: Math.min(3000, Math.floor(periodMs * 0.8)),
  });

  const states: ChecksWebhookResult['states'] = [];
  let runs = 0;
  const t0 = Date.now();
  scheduler.on('result', () => runs++);
  scheduler.on('error', (err) => log(`pipeline error: ${(err as Error).message}`));
  await new Promise<void>((resolve) => {
    const deadline = setTimeout(resolve, options.maxRunMs ?? 60_000);
    scheduler.on('state', ({ checkId, target, previous, state, message }) => {
      log(`${checkId} ${target}: ${previous} → ${state} ${message}`);
      states.push({ checkId, target, previous, state, message });
      if (states.length === options.stopAfterStates) {
        clearTimeout(deadline);
        resolve();
      }
    });
    scheduler.start();
  });
  // waits for the webhook deliveries in flight (within stopGraceMs) and flushes the buffered points
  await scheduler.stop();

  const [durations] = await store.query({
    metric: 'check.duration',
    tags: { check: 'web-http' },
    from: t0 - periodMs,
    to: Date.now() + 1,
    resolution: 'raw',
  });
  return {
    states,
    runs,
    delivered,
    failedDeliveries,
    storedDurations: durations?.points.length ?? 0,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const token = process.env.WEBHOOK_TOKEN;
  const result = await main({
    url: process.env.CHECK_URL ?? 'http://127.0.0.1:8080/health',
    webhookUrl: process.env.WEBHOOK_URL ?? 'http://127.0.0.1:9000/hooks',
    ...(token ? { webhookHeaders: { authorization: `Bearer ${token}` } } : {}),
    periodMs: Number(process.env.PERIOD_MS ?? 10_000),
    maxRunMs: Number(process.env.RUN_MS ?? 60_000),
  });
  console.log(result);
}
