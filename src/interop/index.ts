/**
 * OpenTelemetry interop: the OTLP/HTTP metrics exporter, the receiver the broker runs for its
 * `otlp` option, and the OTLP message codec.
 */
export {
  decodeOtlpMetrics,
  decodeOtlpMetricsSliced,
  decodeOtlpResponse,
  encodeOtlpMetrics,
  encodeOtlpResponse,
} from './otlp-codec.js';
export * from './otlp-exporter.js';
export type {
  BrokerOtlpOptions,
  IngestTarget,
  OtlpReceiver,
  OtlpReceiverStats,
} from './otlp-receiver.js';
export { startOtlpReceiver } from './otlp-receiver.js';
export type { OtlpTranslation, OtlpTranslatorOptions } from './otlp-translate.js';
export { OtlpTranslator } from './otlp-translate.js';
export * from './otlp-types.js';
