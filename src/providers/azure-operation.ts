/**
 * Azure Resource Manager asynchronous operations: a mutating call answers 201/202 with an
 * `Azure-AsyncOperation` URL (polled until `Succeeded`, `Failed` or `Canceled`) or a `Location`
 * URL (202 while running, 200/204 when done), each poll honouring `Retry-After`
 * (learn.microsoft.com/azure/azure-resource-manager/management/async-operations).
 */
import { FleetwatchError } from '../errors.js';
import {
  asObject,
  type PollResult,
  type ProviderHttpClient,
  type ProviderResponse,
  parseJsonBody,
  parseRetryAfterMs,
  str,
} from './kit/index.js';

/** Where to poll an accepted ARM call, or `undefined` when its answer means done. */
export interface AzureOperationRef {
  kind: 'async' | 'location';
  url: string;
}

const header = (res: ProviderResponse, name: string): string | undefined => {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** The operation to poll after an ARM answer (same origin only), if any. */
export function azureOperationRef(
  http: ProviderHttpClient,
  res: ProviderResponse,
): AzureOperationRef | undefined {
  const async = header(res, 'azure-asyncoperation');
  if (async) return { kind: 'async', url: http.resolveLink(async) };
  const location = header(res, 'location');
  if (location && res.status === 202) return { kind: 'location', url: http.resolveLink(location) };
  return undefined;
}

/**
 * One poll of an ARM operation. `Failed`/`Canceled` reject with `E_PROVIDER` carrying ARM's
 * `error.code` and `error.message`.
 */
export async function pollAzureOperation(
  http: ProviderHttpClient,
  ref: AzureOperationRef,
  signal: AbortSignal | undefined,
): Promise<PollResult<void>> {
  const res = await http.request({ url: ref.url, signal });
  const retryAfterMs = parseRetryAfterMs(res.headers['retry-after'], Date.now());
  const wait = { done: false as const, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  if (ref.kind === 'location') return res.status === 202 ? wait : { done: true, value: undefined };
  const body = asObject(parseJsonBody(res.body, http.provider, res.url), http.provider, 'async operation');
  const status = str(body.status);
  if (status === 'Succeeded') return { done: true, value: undefined };
  if (status === 'Failed' || status === 'Canceled') {
    const error = (body.error ?? {}) as { code?: unknown; message?: unknown };
    throw new FleetwatchError(
      'E_PROVIDER',
      `${http.provider}: operation ${status.toLowerCase()}${str(error.message) ? `: ${str(error.message)}` : ''}`,
      {
        provider: http.provider,
        ...(str(error.code) ? { providerCode: str(error.code) } : {}),
        details: { status },
      },
    );
  }
  return wait;
}
