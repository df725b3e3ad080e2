export * from './http-client.js';
export * from './http-options.js';
export * from './paginate.js';
export * from './provider-errors.js';
export * from './redact.js';
export * from './retry.js';
