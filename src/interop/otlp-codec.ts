import protobuf from 'protobufjs/light.js';
import { FleetwatchError } from '../errors.js';
import { runSliced, runSync } from '../time-slice.js';
import { ExportMetricsServiceRequest, ExportMetricsServiceResponse } from './otlp-schema.js';
import type { OtlpEncoding, OtlpMetricsRequest, OtlpMetricsResponse } from './otlp-types.js';

ExportMetricsServiceRequest.root.resolveAll();

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
  return runSync(decodeSteps(body, encoding));
}

/**
 * {@link decodeOtlpMetrics} in slices: one metric at a time, yielding the event loop every few
 * milliseconds, so a 1 MiB body never holds it for long. The result is the same. Rejects with
 * `E_MALFORMED_REQUEST` as the synchronous form throws, or `E_ABORTED` when `signal` fires.
 *
 * @example
 * ```ts
 * const req = await decodeOtlpMetricsSliced(body, 'protobuf', { signal });
 * ```
 */
export function decodeOtlpMetricsSliced(
  body: Uint8Array,
  encoding: OtlpEncoding,
  options: { signal?: AbortSignal } = {},
): Promise<OtlpMetricsRequest> {
  return runSliced(decodeSteps(body, encoding), options);
}

function* decodeSteps(body: Uint8Array, encoding: OtlpEncoding): Generator<void, OtlpMetricsRequest> {
  try {
    if (encoding === 'protobuf')
      return (yield* protobufSteps(ExportMetricsServiceRequest, body)) as OtlpMetricsRequest;
    const parsed = parseJsonObject(body);
    yield;
    return (yield* jsonSteps(ExportMetricsServiceRequest, parsed)) as OtlpMetricsRequest;
  } catch (err) {
    throw malformed(encoding, err);
  }
}

/**
 * The messages decoded field by field: each of their message-typed children (a data point, say) on
 * its own, with a pause point after each; any other message, a data point at most, is decoded whole.
 * Data points are small: the largest is one packed bucket array, decoded at native speed.
 */
const SLICED_TYPES = new Set([
  'ExportMetricsServiceRequest',
  'ResourceMetrics',
  'ScopeMetrics',
  'Metric',
  'Gauge',
  'Sum',
  'Histogram',
  'ExponentialHistogram',
  'Summary',
]);

/** A message-typed field of a sliced message: {@link protobufSteps} and {@link jsonSteps} descend into it. */
function slicedField(type: protobuf.Type, id: number): protobuf.Field | undefined {
  const field = type.fieldsById[id];
  return field?.resolvedType instanceof protobuf.Type ? field : undefined;
}

/**
 * Decode a protobuf message as `type.toObject(type.decode(bytes))` would, but one child message at
 * a time: the fields of sliced children are cut out of the bytes and decoded on their own, the rest
 * (scalars, small messages) decoded together. A repeated child appends; a singular one, sent twice,
 * keeps the last (the only case where this differs from protobuf's merge, and no OTLP sender does it).
 */
function* protobufSteps(type: protobuf.Type, bytes: Uint8Array): Generator<void, Record<string, unknown>> {
  if (!SLICED_TYPES.has(type.name)) {
    const out = type.toObject(type.decode(bytes), TO_OBJECT);
    yield;
    return out;
  }
  const reader = protobuf.Reader.create(bytes);
  const rest: Uint8Array[] = [];
  const children: Record<string, unknown> = {};
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    const field = (tag & 7) === 2 ? slicedField(type, tag >>> 3) : undefined;
    if (field === undefined) {
      reader.skipType(tag & 7);
      rest.push(bytes.subarray(start, reader.pos));
      continue;
    }
    const length = reader.uint32();
    if (reader.pos + length > reader.len) throw new RangeError(`index out of range in ${type.name}`);
    const child = yield* protobufSteps(
      field.resolvedType as protobuf.Type,
      bytes.subarray(reader.pos, reader.pos + length),
    );
    reader.pos += length;
    if (!field.repeated) children[field.name] = child;
    else if (Array.isArray(children[field.name])) (children[field.name] as unknown[]).push(child);
    else children[field.name] = [child];
  }
  const own = type.toObject(type.decode(concat(rest)), TO_OBJECT);
  return { ...own, ...children };
}

/**
 * Check and normalise an OTLP/JSON message as `type.toObject(type.fromObject(value))` would, one
 * sliced child at a time (the same rule as {@link protobufSteps}).
 */
function* jsonSteps(
  type: protobuf.Type,
  value: Record<string, unknown>,
): Generator<void, Record<string, unknown>> {
  if (!SLICED_TYPES.has(type.name)) {
    const out = type.toObject(type.fromObject(value), TO_OBJECT);
    yield;
    return out;
  }
  const rest: Record<string, unknown> = {};
  const children: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key];
    const sliced = field === undefined ? undefined : slicedField(type, field.id);
    if (sliced === undefined) {
      rest[key] = v;
      continue;
    }
    if (!v) continue; // protobufjs' fromObject skips a falsy field
    const child = sliced.resolvedType as protobuf.Type;
    if (sliced.repeated) {
      if (!Array.isArray(v)) throw new TypeError(`${type.name}.${key}: array expected`);
      const out: unknown[] = [];
      for (const x of v) out.push(yield* jsonSteps(child, object(x, `${type.name}.${key}`)));
      if (out.length > 0) children[key] = out;
    } else children[key] = yield* jsonSteps(child, object(v, `${type.name}.${key}`));
  }
  const own = type.toObject(type.fromObject(rest), TO_OBJECT);
  return { ...own, ...children };
}

/** `x` as a JSON object, or a TypeError naming where it sits (`at`). */
function object(x: unknown, at: string): Record<string, unknown> {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) throw new TypeError(`${at}: object expected`);
  return x as Record<string, unknown>;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
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
    return type.toObject(type.fromObject(parseJsonObject(body)), TO_OBJECT);
  } catch (err) {
    throw malformed(encoding, err);
  }
}

/** The JSON object of a UTF-8 body; throws when it is not valid UTF-8, JSON, or an object. */
function parseJsonObject(body: Uint8Array): Record<string, unknown> {
  const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('the JSON body is not an object');
  return parsed as Record<string, unknown>;
}

function malformed(encoding: OtlpEncoding, err: unknown): FleetwatchError {
  return new FleetwatchError('E_MALFORMED_REQUEST', `OTLP ${encoding} body: ${describe(err)}`, {
    path: 'body',
    cause: err,
  });
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
