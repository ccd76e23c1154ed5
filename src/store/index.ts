// The MongoDB data layer: what the worker writes and the app reads (docs/data-model.md).
export * from './records.ts';
export * from './connections.ts';
export * from './listings.ts';
export * from './indexes.ts';
export * from './errors.ts';
