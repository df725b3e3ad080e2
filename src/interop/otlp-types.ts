/**
 * OTLP metrics messages as plain objects (the proto3 JSON mapping: lowerCamelCase names, 64-bit
 * integers as decimal strings or numbers). {@link decodeOtlpMetrics} produces them from protobuf or
 * JSON bodies; {@link encodeOtlpMetrics} writes them.
 */

/** A 64-bit integer: a decimal string (always when decoded) or a safe integer number. */
export type OtlpInt64 = string | number;

/** `opentelemetry.proto.common.v1.AnyValue`: exactly one field set. */
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: OtlpInt64;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}

/** An attribute. */
export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

/** Times of a data point, ns since the epoch. */
interface OtlpPointTimes {
  attributes?: OtlpKeyValue[];
  startTimeUnixNano?: OtlpInt64;
  timeUnixNano?: OtlpInt64;
  flags?: number;
}

/** A Sum or Gauge point: `asDouble` or `asInt`. */
export interface OtlpNumberDataPoint extends OtlpPointTimes {
  asDouble?: number;
  asInt?: OtlpInt64;
}

/** One sign's buckets of an exponential histogram point. */
export interface OtlpBuckets {
  offset?: number;
  bucketCounts?: OtlpInt64[];
}

/** An ExponentialHistogram point. */
export interface OtlpExponentialHistogramDataPoint extends OtlpPointTimes {
  count?: OtlpInt64;
  sum?: number;
  scale?: number;
  zeroCount?: OtlpInt64;
  positive?: OtlpBuckets;
  negative?: OtlpBuckets;
  min?: number;
  max?: number;
  zeroThreshold?: number;
}

/** An explicit-bucket Histogram point: `bucketCounts` has one more entry than `explicitBounds`. */
export interface OtlpHistogramDataPoint extends OtlpPointTimes {
  count?: OtlpInt64;
  sum?: number;
  bucketCounts?: OtlpInt64[];
  explicitBounds?: number[];
  min?: number;
  max?: number;
}

/** A Summary point (accepted by the OTLP schema; fleetwatch cannot merge it). */
export interface OtlpSummaryDataPoint extends OtlpPointTimes {
  count?: OtlpInt64;
  sum?: number;
  quantileValues?: Array<{ quantile?: number; value?: number }>;
}

/** `AggregationTemporality`: 1 delta, 2 cumulative. */
export type OtlpTemporality = 0 | 1 | 2;

/** One metric: exactly one of the data fields. */
export interface OtlpMetric {
  name?: string;
  description?: string;
  unit?: string;
  gauge?: { dataPoints?: OtlpNumberDataPoint[] };
  sum?: {
    dataPoints?: OtlpNumberDataPoint[];
    aggregationTemporality?: OtlpTemporality;
    isMonotonic?: boolean;
  };
  histogram?: { dataPoints?: OtlpHistogramDataPoint[]; aggregationTemporality?: OtlpTemporality };
  exponentialHistogram?: {
    dataPoints?: OtlpExponentialHistogramDataPoint[];
    aggregationTemporality?: OtlpTemporality;
  };
  summary?: { dataPoints?: OtlpSummaryDataPoint[] };
}

/** Metrics of one instrumentation scope. */
export interface OtlpScopeMetrics {
  scope?: { name?: string; version?: string; attributes?: OtlpKeyValue[] };
  metrics?: OtlpMetric[];
  schemaUrl?: string;
}

/** Metrics of one resource (process). */
export interface OtlpResourceMetrics {
  resource?: { attributes?: OtlpKeyValue[] };
  scopeMetrics?: OtlpScopeMetrics[];
  schemaUrl?: string;
}

/** `ExportMetricsServiceRequest`. */
export interface OtlpMetricsRequest {
  resourceMetrics?: OtlpResourceMetrics[];
}

/** `ExportMetricsServiceResponse`. */
export interface OtlpMetricsResponse {
  partialSuccess?: { rejectedDataPoints?: OtlpInt64; errorMessage?: string };
}

/** The two OTLP/HTTP body encodings. */
export type OtlpEncoding = 'protobuf' | 'json';

/** The `Content-Type` of each encoding. */
export const OTLP_CONTENT_TYPES: Readonly<Record<OtlpEncoding, string>> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};
