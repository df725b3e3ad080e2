import { expect, it } from 'vitest';
import { OTLP_METRICS_SCHEMA } from '../../src/interop/otlp-schema.js';
import { describeWithService } from '../helpers/services.js';
import { probePythonPeers, runPeer } from './python.js';

const reason = await probePythonPeers();

describeWithService('the OTLP schema in src/interop/otlp-schema.ts', reason, () => {
  it('is what the official opentelemetry-proto descriptors generate (no drift, no hand edits)', async () => {
    const generated = JSON.parse(await runPeer('gen_otlp_schema.py', [], ''));
    expect(JSON.parse(JSON.stringify(OTLP_METRICS_SCHEMA))).toEqual(generated);
  });
});
