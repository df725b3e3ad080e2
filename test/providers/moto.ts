import aws4 from 'aws4';
import { MOTO_URL } from '../helpers/services.js';

/**
 * Call moto directly (SigV4-signed with `credentials` for `region`), for test setup the EC2 adapter
 * does not offer (Elastic IPs, CreateImage, instance attributes). Resolves with the XML body.
 */
export async function motoCall(
  credentials: { accessKeyId: string; secretAccessKey: string },
  region: string,
  params: Record<string, string>,
): Promise<string> {
  const url = new URL(MOTO_URL);
  const body = new URLSearchParams({ Version: '2016-11-15', ...params }).toString();
  const signed = aws4.sign(
    { host: url.host, path: '/', method: 'POST', body, service: 'ec2', region, headers: {} },
    credentials,
  );
  const res = await fetch(`${MOTO_URL}/`, {
    method: 'POST',
    body,
    headers: signed.headers as Record<string, string>,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`moto ${params.Action}: ${res.status} ${text}`);
  return text;
}
