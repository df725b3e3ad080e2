/**
 * The Python test peers of the interop suites (parsers and decoders this project did not write):
 * `prometheus_client` and `opentelemetry-proto`, in a cached virtualenv under
 * ~/.cache/fleetwatch/interop (FLEETWATCH_INTEROP_VENV overrides). `.ci/run` creates it; locally the
 * first run creates it when python3 and pip can, else the suites skip loudly (and fail under CI).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Pinned versions, the same as .ci/run installs. */
export const PYTHON_PEERS = ['prometheus_client==0.26.0', 'opentelemetry-proto==1.45.2'];
const VENV =
  process.env.FLEETWATCH_INTEROP_VENV ?? join(homedir(), '.cache', 'fleetwatch', 'interop', 'venv');
/** The venv's interpreter. */
export const PYTHON = join(VENV, 'bin', 'python');
/** Directory of the peer scripts. */
export const PEERS = new URL('./peers/', import.meta.url).pathname;

async function importsOk(): Promise<boolean> {
  if (!existsSync(PYTHON)) return false;
  try {
    await run(
      PYTHON,
      ['-c', 'import prometheus_client, opentelemetry.proto.collector.metrics.v1.metrics_service_pb2'],
      {
        timeout: 30_000,
      },
    );
    return true;
  } catch {
    return false;
  }
}

let probe: Promise<string | undefined> | undefined;

/** Undefined when the peers are importable (creating the venv first if needed), else why not. */
export function probePythonPeers(): Promise<string | undefined> {
  probe ??= (async () => {
    if (await importsOk()) return undefined;
    try {
      await run('python3', ['-m', 'venv', VENV], { timeout: 120_000 });
      await run(join(VENV, 'bin', 'pip'), ['install', '-q', ...PYTHON_PEERS], { timeout: 300_000 });
    } catch (err) {
      return `cannot create the Python peer venv at ${VENV} (python3 -m venv + pip install ${PYTHON_PEERS.join(' ')}): ${String((err as Error).message).split('\n')[0]}`;
    }
    return (await importsOk()) ? undefined : `the Python peers are not importable from ${PYTHON}`;
  })();
  return probe;
}

/** Run a peer script with `input` on stdin; its stdout. */
export function runPeer(
  script: string,
  args: readonly string[],
  input: string | Uint8Array,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [join(PEERS, script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${script} exited ${code}: ${Buffer.concat(err).toString('utf8').slice(-2000)}`));
    });
    child.stdin.end(input);
  });
}
