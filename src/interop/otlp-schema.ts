import protobuf from 'protobufjs/light.js';

/**
 * The OTLP metrics messages (opentelemetry-proto 1.45.2: `opentelemetry/proto/{common,resource,metrics}/v1`
 * and `collector/metrics/v1`, exemplars left out), in protobufjs' JSON descriptor form, generated from
 * the official Python package's descriptors by `test/interop/peers/gen_otlp_schema.py`
 * (`test/interop/otlp-schema.test.ts` checks it has not drifted). Field names are the proto3 JSON
 * names (lowerCamelCase), which is also what OTLP/JSON uses.
 *
 * @internal
 */
// biome-ignore format: generated, one message per line
export const OTLP_METRICS_SCHEMA = {
  ExportMetricsServiceRequest: { fields: { resourceMetrics: { rule: 'repeated', type: 'ResourceMetrics', id: 1 } } },
  ResourceMetrics: { fields: { resource: { type: 'Resource', id: 1 }, scopeMetrics: { rule: 'repeated', type: 'ScopeMetrics', id: 2 }, schemaUrl: { type: 'string', id: 3 } } },
  Resource: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 1 }, droppedAttributesCount: { type: 'uint32', id: 2 }, entityRefs: { rule: 'repeated', type: 'EntityRef', id: 3 } } },
  KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 }, keyStrindex: { type: 'int32', id: 3 } } },
  AnyValue: { fields: { stringValue: { type: 'string', id: 1 }, boolValue: { type: 'bool', id: 2 }, intValue: { type: 'int64', id: 3 }, doubleValue: { type: 'double', id: 4 }, arrayValue: { type: 'ArrayValue', id: 5 }, kvlistValue: { type: 'KeyValueList', id: 6 }, bytesValue: { type: 'bytes', id: 7 }, stringValueStrindex: { type: 'int32', id: 8 } }, oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue', 'stringValueStrindex'] } } },
  ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
  KeyValueList: { fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
  EntityRef: { fields: { schemaUrl: { type: 'string', id: 1 }, type: { type: 'string', id: 2 }, idKeys: { rule: 'repeated', type: 'string', id: 3 }, descriptionKeys: { rule: 'repeated', type: 'string', id: 4 } } },
  ScopeMetrics: { fields: { scope: { type: 'InstrumentationScope', id: 1 }, metrics: { rule: 'repeated', type: 'Metric', id: 2 }, schemaUrl: { type: 'string', id: 3 } } },
  InstrumentationScope: { fields: { name: { type: 'string', id: 1 }, version: { type: 'string', id: 2 }, attributes: { rule: 'repeated', type: 'KeyValue', id: 3 }, droppedAttributesCount: { type: 'uint32', id: 4 } } },
  Metric: { fields: { name: { type: 'string', id: 1 }, description: { type: 'string', id: 2 }, unit: { type: 'string', id: 3 }, gauge: { type: 'Gauge', id: 5 }, sum: { type: 'Sum', id: 7 }, histogram: { type: 'Histogram', id: 9 }, exponentialHistogram: { type: 'ExponentialHistogram', id: 10 }, summary: { type: 'Summary', id: 11 }, metadata: { rule: 'repeated', type: 'KeyValue', id: 12 } }, oneofs: { data: { oneof: ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] } } },
  Gauge: { fields: { dataPoints: { rule: 'repeated', type: 'NumberDataPoint', id: 1 } } },
  NumberDataPoint: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 7 }, startTimeUnixNano: { type: 'fixed64', id: 2 }, timeUnixNano: { type: 'fixed64', id: 3 }, asDouble: { type: 'double', id: 4 }, asInt: { type: 'sfixed64', id: 6 }, flags: { type: 'uint32', id: 8 } }, oneofs: { value: { oneof: ['asDouble', 'asInt'] } } },
  Sum: { fields: { dataPoints: { rule: 'repeated', type: 'NumberDataPoint', id: 1 }, aggregationTemporality: { type: 'AggregationTemporality', id: 2 }, isMonotonic: { type: 'bool', id: 3 } } },
  Histogram: { fields: { dataPoints: { rule: 'repeated', type: 'HistogramDataPoint', id: 1 }, aggregationTemporality: { type: 'AggregationTemporality', id: 2 } } },
  HistogramDataPoint: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 9 }, startTimeUnixNano: { type: 'fixed64', id: 2 }, timeUnixNano: { type: 'fixed64', id: 3 }, count: { type: 'fixed64', id: 4 }, sum: { type: 'double', id: 5, options: { proto3_optional: true } }, bucketCounts: { rule: 'repeated', type: 'fixed64', id: 6 }, explicitBounds: { rule: 'repeated', type: 'double', id: 7 }, flags: { type: 'uint32', id: 10 }, min: { type: 'double', id: 11, options: { proto3_optional: true } }, max: { type: 'double', id: 12, options: { proto3_optional: true } } }, oneofs: { _sum: { oneof: ['sum'] }, _min: { oneof: ['min'] }, _max: { oneof: ['max'] } } },
  ExponentialHistogram: { fields: { dataPoints: { rule: 'repeated', type: 'ExponentialHistogramDataPoint', id: 1 }, aggregationTemporality: { type: 'AggregationTemporality', id: 2 } } },
  ExponentialHistogramDataPoint: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 1 }, startTimeUnixNano: { type: 'fixed64', id: 2 }, timeUnixNano: { type: 'fixed64', id: 3 }, count: { type: 'fixed64', id: 4 }, sum: { type: 'double', id: 5, options: { proto3_optional: true } }, scale: { type: 'sint32', id: 6 }, zeroCount: { type: 'fixed64', id: 7 }, positive: { type: 'Buckets', id: 8 }, negative: { type: 'Buckets', id: 9 }, flags: { type: 'uint32', id: 10 }, min: { type: 'double', id: 12, options: { proto3_optional: true } }, max: { type: 'double', id: 13, options: { proto3_optional: true } }, zeroThreshold: { type: 'double', id: 14 } }, oneofs: { _sum: { oneof: ['sum'] }, _min: { oneof: ['min'] }, _max: { oneof: ['max'] } } },
  Buckets: { fields: { offset: { type: 'sint32', id: 1 }, bucketCounts: { rule: 'repeated', type: 'uint64', id: 2 } } },
  Summary: { fields: { dataPoints: { rule: 'repeated', type: 'SummaryDataPoint', id: 1 } } },
  SummaryDataPoint: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 7 }, startTimeUnixNano: { type: 'fixed64', id: 2 }, timeUnixNano: { type: 'fixed64', id: 3 }, count: { type: 'fixed64', id: 4 }, sum: { type: 'double', id: 5 }, quantileValues: { rule: 'repeated', type: 'ValueAtQuantile', id: 6 }, flags: { type: 'uint32', id: 8 } } },
  ValueAtQuantile: { fields: { quantile: { type: 'double', id: 1 }, value: { type: 'double', id: 2 } } },
  ExportMetricsServiceResponse: { fields: { partialSuccess: { type: 'ExportMetricsPartialSuccess', id: 1 } } },
  ExportMetricsPartialSuccess: { fields: { rejectedDataPoints: { type: 'int64', id: 1 }, errorMessage: { type: 'string', id: 2 } } },
  AggregationTemporality: { values: { AGGREGATION_TEMPORALITY_UNSPECIFIED: 0, AGGREGATION_TEMPORALITY_DELTA: 1, AGGREGATION_TEMPORALITY_CUMULATIVE: 2 } },
} as const;

const root = protobuf.Root.fromJSON({
  nested: { otlp: { nested: OTLP_METRICS_SCHEMA as unknown as Record<string, protobuf.AnyNestedObject> } },
});

/** `ExportMetricsServiceRequest`. @internal */
export const ExportMetricsServiceRequest: protobuf.Type = root.lookupType('otlp.ExportMetricsServiceRequest');
/** `ExportMetricsServiceResponse`. @internal */
export const ExportMetricsServiceResponse: protobuf.Type = root.lookupType(
  'otlp.ExportMetricsServiceResponse',
);
