/**
 * The `system` check: figures of the local host, like Rackspace's agent checks. Metrics:
 * `cpu_usage_average`, `cpu_user_percent`, `cpu_sys_percent`, `cpu_idle_percent` (since the previous
 * run of the same check, or since boot on the first); `memory_total`, `memory_free`, `memory_used`,
 * `memory_used_percent` (bytes); `load_1m`, `load_5m`, `load_15m`; `disk_total`, `disk_free`,
 * `disk_avail`, `disk_used_percent` (bytes, `fs.statfs` of `path`); `net_rx_bytes`, `net_tx_bytes`,
 * `net_rx_packets`, `net_tx_packets`, `net_rx_errors`, `net_tx_errors` (counters from /proc/net/dev,
 * Linux only, left out where the file does not exist; summed over non-loopback interfaces unless
 * `interface` is set).
 */
import { readFile, statfs } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { validationError } from '../errors.js';
import { configObject, optString } from './config.js';
import type { CheckMetrics, CheckOutcome, CheckType } from './types.js';

/** The groups of figures a `system` check can collect. */
export const SYSTEM_GROUPS = ['cpu', 'memory', 'load', 'disk', 'network'] as const;
/** One group of system figures. */
export type SystemGroup = (typeof SYSTEM_GROUPS)[number];

/** Config of a `system` check. */
export interface SystemCheckConfig {
  /** @default every group */
  include: SystemGroup[];
  /** Mount point for `disk`. @default '/' */
  path: string;
  /** Network interface; default: all but `lo`. */
  interface?: string;
  /** Where /proc/net/dev lives (tests point it at a fixture). @default '/proc/net/dev' */
  procNetDev: string;
}

interface CpuSample {
  user: number;
  sys: number;
  idle: number;
  total: number;
}

function cpuSample(): CpuSample {
  const s = { user: 0, sys: 0, idle: 0, total: 0 };
  for (const c of cpus()) {
    const t = c.times;
    s.user += t.user + t.nice;
    s.sys += t.sys + t.irq;
    s.idle += t.idle;
    s.total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return s;
}

const lastCpu = new WeakMap<SystemCheckConfig, CpuSample>();
const pct = (x: number) => Math.round(x * 10_000) / 100;

/** Parse /proc/net/dev text into per-interface counters. */
export function parseNetDev(text: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim().split(/\s+/).map(Number));
  }
  return out;
}

/** The `system` check type. The target is ignored (it is always the local host). */
export const systemCheck: CheckType<SystemCheckConfig> = {
  type: 'system',
  normalize(value, path) {
    const c = configObject(value, path, ['include', 'path', 'interface', 'procNetDev']);
    let include: SystemGroup[] = [...SYSTEM_GROUPS];
    if (c.include !== undefined) {
      if (
        !Array.isArray(c.include) ||
        c.include.some((g) => !(SYSTEM_GROUPS as readonly unknown[]).includes(g))
      )
        throw validationError(`${path}.include`, `an array of ${SYSTEM_GROUPS.join(', ')}`, c.include);
      include = c.include as SystemGroup[];
    }
    const iface = optString(c.interface, `${path}.interface`);
    return {
      include,
      path: optString(c.path, `${path}.path`) ?? '/',
      procNetDev: optString(c.procNetDev, `${path}.procNetDev`) ?? '/proc/net/dev',
      ...(iface !== undefined ? { interface: iface } : {}),
    };
  },
  async run(config): Promise<CheckOutcome> {
    const m: CheckMetrics = {};
    const errors: string[] = [];
    const want = new Set(config.include);
    if (want.has('cpu')) {
      const now = cpuSample();
      const prev = lastCpu.get(config) ?? { user: 0, sys: 0, idle: 0, total: 0 };
      lastCpu.set(config, now);
      const total = now.total - prev.total || 1;
      m.cpu_user_percent = pct((now.user - prev.user) / total);
      m.cpu_sys_percent = pct((now.sys - prev.sys) / total);
      m.cpu_idle_percent = pct((now.idle - prev.idle) / total);
      m.cpu_usage_average = pct(1 - (now.idle - prev.idle) / total);
    }
    if (want.has('memory')) {
      const total = totalmem();
      const free = freemem();
      Object.assign(m, {
        memory_total: total,
        memory_free: free,
        memory_used: total - free,
        memory_used_percent: pct((total - free) / total),
      });
    }
    if (want.has('load')) {
      const [a, b, c] = loadavg();
      Object.assign(m, { load_1m: a, load_5m: b, load_15m: c });
    }
    if (want.has('disk')) {
      try {
        const s = await statfs(config.path);
        const total = s.blocks * s.bsize;
        Object.assign(m, {
          disk_total: total,
          disk_free: s.bfree * s.bsize,
          disk_avail: s.bavail * s.bsize,
          disk_used_percent: total > 0 ? pct((total - s.bfree * s.bsize) / total) : 0,
        });
      } catch (err) {
        errors.push(`disk: ${(err as Error).message}`);
      }
    }
    if (want.has('network')) {
      try {
        const devs = parseNetDev(await readFile(config.procNetDev, 'utf8'));
        const sum = new Array<number>(16).fill(0);
        for (const [name, v] of devs) {
          if (config.interface ? name !== config.interface : name === 'lo') continue;
          for (let i = 0; i < 16; i++) sum[i]! += v[i] ?? 0;
        }
        Object.assign(m, {
          net_rx_bytes: sum[0],
          net_rx_packets: sum[1],
          net_rx_errors: sum[2],
          net_tx_bytes: sum[8],
          net_tx_packets: sum[9],
          net_tx_errors: sum[10],
        });
      } catch (err) {
        // no /proc (macOS, Windows): leave the network figures out rather than fail every run
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          errors.push(`network: ${(err as Error).message}`);
      }
    }
    return errors.length > 0 ? { metrics: m, error: errors.join('; ') } : { metrics: m };
  },
};
