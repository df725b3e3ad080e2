// A real OpenTelemetry JS SDK app, run as a child process by test/interop/otlp-receiver.test.ts:
// records the values of the JSON file named in argv[2] and exports them over OTLP/HTTP.
//   argv: <values.json> <url> <json|proto> <delta|cumulative> <exports>
// values.json: { counter: number[], latency: number[] } — split evenly over <exports> exports.
import { readFileSync } from 'node:fs';
import { AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';

const [file, url, protocol, temporality, exportsArg] = process.argv.slice(2);
const values = JSON.parse(readFileSync(file, 'utf8'));
const { OTLPMetricExporter } =
  protocol === 'proto'
    ? await import('@opentelemetry/exporter-metrics-otlp-proto')
    : await import('@opentelemetry/exporter-metrics-otlp-http');
const exporter = new OTLPMetricExporter({
  url,
  temporalityPreference:
    temporality === 'delta'
      ? AggregationTemporalityPreference.DELTA
      : AggregationTemporalityPreference.CUMULATIVE,
});
const provider = new MeterProvider({
  resource: resourceFromAttributes({
    'service.name': 'checkout',
    'service.instance.id': String(process.pid),
  }),
  views: [{ instrumentName: 'latency', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  readers: [
    new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: 3_600_000,
      exportTimeoutMillis: 10_000,
    }),
  ],
});
const meter = provider.getMeter('interop-test', '1.0.0');
const counter = meter.createCounter('requests');
const latency = meter.createHistogram('latency', { unit: 'ms' });
const n = Number(exportsArg);
for (let e = 0; e < n; e++) {
  const part = (list) =>
    list.slice(Math.floor((e * list.length) / n), Math.floor(((e + 1) * list.length) / n));
  for (const v of part(values.counter)) counter.add(v, { route: '/pay' });
  for (const v of part(values.latency)) latency.record(v, { route: '/pay' });
  await provider.forceFlush();
}
await provider.shutdown();
