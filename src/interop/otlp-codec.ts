import type protobuf from 'protobufjs/light.js';
import { FleetwatchError } from '../errors.js';
import { ExportMetricsServiceRequest, ExportMetricsServiceResponse } from './otlp-schema.js';
import type { OtlpEncoding, OtlpMetricsRequest, OtlpMetricsResponse } from './otlp-types.js';

/** protobufjs `toObject` options: 64-bit integers as strings, enums as numbers, presence kept. */
const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: Number,
  bytes: String,
  defaults: false,
};

/**
 * Decode an OTLP/HTTP metrics request body (protobuf or JSON) with protobufjs and the official
 * schema. Unknown fields are ignored (as OTLP requires). A body that is not a valid
 * `ExportMetricsServiceRequest` throws `E_MALFORMED_REQUEST`; values are checked later, when the
 * request is translated.
 *
 * @example
 * ```ts
 * const req = decodeOtlpMetrics(body, 'protobuf');
 * req.resourceMetrics?.[0]?.scopeMetrics?.[0]?.metrics?.[0]?.name; // 'http.server.duration'
 * ```
 */
export function decodeOtlpMetrics(body: Uint8Array, encoding: OtlpEncoding): OtlpMetricsRequest {
  return decodeWith(ExportMetricsServiceRequest, body, encoding) as OtlpMetricsRequest;
}

/** Decode an `ExportMetricsServiceResponse` (as {@link decodeOtlpMetrics}); an empty body is `{}`. */
export function decodeOtlpResponse(body: Uint8Array, encoding: OtlpEncoding): OtlpMetricsResponse {
  if (body.length === 0) return {};
  return decodeWith(ExportMetricsServiceResponse, body, encoding) as OtlpMetricsResponse;
}

/**
 * Encode an OTLP metrics request: protobuf bytes, or the OTLP/JSON text (64-bit integers as strings,
 * enums as integers) as UTF-8.
 *
 * @example
 * ```ts
 * const bytes = encodeOtlpMetrics({ resourceMetrics: [] }, 'protobuf');
 * ```
 */
export function encodeOtlpMetrics(request: OtlpMetricsRequest, encoding: OtlpEncoding): Uint8Array {
  return encodeWith(ExportMetricsServiceRequest, request, encoding);
}

/** Encode an `ExportMetricsServiceResponse`, as {@link encodeOtlpMetrics}. */
export function encodeOtlpResponse(response: OtlpMetricsResponse, encoding: OtlpEncoding): Uint8Array {
  return encodeWith(ExportMetricsServiceResponse, response, encoding);
}

function decodeWith(type: protobuf.Type, body: Uint8Array, encoding: OtlpEncoding): unknown {
  try {
    if (encoding === 'protobuf') return type.toObject(type.decode(body), TO_OBJECT);
    const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('the JSON body is not an object');
    return type.toObject(type.fromObject(parsed as Record<string, unknown>), TO_OBJECT);
  } catch (err) {
    throw new FleetwatchError('E_MALFORMED_REQUEST', `OTLP ${encoding} body: ${describe(err)}`, {
      path: 'body',
      cause: err,
    });
  }
}

function encodeWith(type: protobuf.Type, value: object, encoding: OtlpEncoding): Uint8Array {
  const message = type.fromObject(value as Record<string, unknown>);
  if (encoding === 'protobuf') return type.encode(message).finish();
  return new TextEncoder().encode(JSON.stringify(type.toObject(message, TO_OBJECT)));
}

/** A short, body-free description of a decode failure. */
function describe(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.length > 200 ? `${msg.slice(0, 200)}…` : msg;
}
