// @galley/protocol: the shapes on the wire, shared by the server, the SDK and the dashboard.
export * from './admin.ts';
export * from './auth.ts';
export * from './collections.ts';
export * from './errors.ts';
export * from './records.ts';
export * from './realtime.ts';
export * from './webhooks.ts';
