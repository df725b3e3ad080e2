import { describe, expect, it } from 'vitest';
import {
  decodeOtlpMetrics,
  decodeOtlpMetricsSliced,
  encodeOtlpMetrics,
} from '../../src/interop/otlp-codec.js';
import { ExportMetricsServiceRequest } from '../../src/interop/otlp-schema.js';
import { OtlpTranslator } from '../../src/interop/otlp-translate.js';
import { PER_INPUT_BOUND_MS } from '../helpers/fuzz.js';
import { watchLoop } from '../helpers/loop-stall.js';
import { longestBlock, requestOf, startOtlpBroker, T0 } from './otlp-requests.js';

describe('OTLP receiver: large requests never block the event loop', () => {
  it('decodes in slices exactly what protobufjs decodes whole (protobuf and JSON)', async () => {
    for (const encoding of ['protobuf', 'json'] as const) {
      const { body } = requestOf(64 * 1024, encoding);
      const whole =
        encoding === 'protobuf'
          ? ExportMetricsServiceRequest.decode(body)
          : ExportMetricsServiceRequest.fromObject(JSON.parse(new TextDecoder().decode(body)));
      const expected = ExportMetricsServiceRequest.toObject(whole, {
        longs: String,
        enums: Number,
        bytes: String,
        defaults: false,
      });
      expect(await decodeOtlpMetricsSliced(body, encoding)).toEqual(expected);
      expect(decodeOtlpMetrics(body, encoding)).toEqual(expected);
    }
  });

  it('refuses a bad nested message or a non-array list as E_MALFORMED_REQUEST', async () => {
    // resourceMetrics[0].scopeMetrics[0] claims 5 bytes where 1 is left.
    const truncated = Uint8Array.from([0x0a, 0x03, 0x12, 0x05, 0x0a]);
    await expect(decodeOtlpMetricsSliced(truncated, 'protobuf')).rejects.toMatchObject({
      code: 'E_MALFORMED_REQUEST',
      path: 'body',
    });
    const notList = new TextEncoder().encode('{"resourceMetrics":[{"scopeMetrics":{"metrics":[]}}]}');
    await expect(decodeOtlpMetricsSliced(notList, 'json')).rejects.toMatchObject({
      code: 'E_MALFORMED_REQUEST',
      message: expect.stringMatching(/scopeMetrics: array expected/),
    });
  });

  it('decodes and translates protobuf and JSON requests at the 128 KiB default limit holding the loop under the bound (best of 3)', async () => {
    for (const encoding of ['protobuf', 'json'] as const) {
      const { body, points } = requestOf(126 * 1024, encoding);
      expect(body.length).toBeLessThanOrEqual(128 * 1024);
      let best = Number.POSITIVE_INFINITY;
      for (let attempt = 0; attempt < 3 && best >= PER_INPUT_BOUND_MS; attempt++) {
        const translator = new OtlpTranslator();
        best = Math.min(
          best,
          await longestBlock(async () => {
            const request = await decodeOtlpMetricsSliced(body, encoding);
            const t = await translator.translateSliced(request, T0);
            expect(t.items).toHaveLength(points);
          }),
        );
      }
      expect(best, `${encoding}: the loop was held ${best.toFixed(1)} ms at best of 3`).toBeLessThan(
        PER_INPUT_BOUND_MS,
      );
    }
  }, 60_000);
});

describe('the default body limit keeps a whole request within the bound', () => {
  it('a request at the 128 KiB default, ingest included, holds the loop under the bound; a larger one is refused with 413', async () => {
    const { broker: b } = await startOtlpBroker({ id: 'b2' });
    try {
      let best = Number.POSITIVE_INFINITY;
      for (let attempt = 0; attempt < 3; attempt++) {
        const { body } = requestOf(126 * 1024, 'protobuf');
        expect(body.length).toBeLessThanOrEqual(128 * 1024);
        // the longest gap between ticks of a 1 ms timer while the request is taken whole
        const { value: res, stallMs: worst } = await watchLoop(
          () =>
            fetch(b.otlpUrl!, {
              method: 'POST',
              body,
              headers: { 'content-type': 'application/x-protobuf' },
            }),
          { tickMs: 1 },
        );
        expect(res.status, await res.text()).toBe(200);
        best = Math.min(best, worst);
      }
      expect(best, `the loop was held ${best.toFixed(1)} ms at best of 3`).toBeLessThan(PER_INPUT_BOUND_MS);
      const big = requestOf(300 * 1024, 'protobuf').body;
      const res = await fetch(b.otlpUrl!, {
        method: 'POST',
        body: big,
        headers: { 'content-type': 'application/x-protobuf' },
      });
      expect(res.status).toBe(413);
    } finally {
      await b.close();
    }
  }, 60_000);
});

describe('sliced decoding and translation: abort', () => {
  it('rejects with E_ABORTED when the signal has fired', async () => {
    const body = encodeOtlpMetrics({ resourceMetrics: [] }, 'protobuf');
    const signal = AbortSignal.abort();
    await expect(decodeOtlpMetricsSliced(body, 'protobuf', { signal })).rejects.toMatchObject({
      code: 'E_ABORTED',
    });
    await expect(new OtlpTranslator().translateSliced({}, T0, { signal })).rejects.toMatchObject({
      code: 'E_ABORTED',
    });
  });
});
