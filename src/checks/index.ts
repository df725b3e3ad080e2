/**
 * Public surface of the checks area (re-exported from the package root).
 */
export * from './alarm.js';
export type { DnsCheckConfig, DnsRecordType } from './dns.js';
export { DNS_ERROR_RCODES, DNS_RECORD_TYPES, dnsCheck } from './dns.js';
export type { HttpCheckConfig } from './http.js';
export { httpCheck } from './http.js';
export type { PingCheckConfig } from './ping.js';
export { pingCheck } from './ping.js';
export type { CheckLookupOptions } from './resolve.js';
export { createCheckLookup } from './resolve.js';
export type {
  CheckDefinition,
  CheckResultEvent,
  CheckSchedulerEvents,
  CheckSchedulerOptions,
  CheckSchedulerStats,
  CheckSkippedEvent,
  SchedulerTimers,
  TestCheckResult,
} from './scheduler.js';
export { BUILTIN_CHECK_TYPES, CheckScheduler, testCheck } from './scheduler.js';
export * from './state.js';
export type { SystemCheckConfig, SystemGroup } from './system.js';
export { SYSTEM_GROUPS, systemCheck } from './system.js';
export type { CheckTargets } from './targets.js';
export type { TcpCheckConfig } from './tcp.js';
export { tcpCheck } from './tcp.js';
export type { TlsCheckConfig } from './tls.js';
export { tlsCheck } from './tls.js';
export * from './types.js';
export * from './webhook.js';
