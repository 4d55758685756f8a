// @galley/sdk: the TypeScript client for Galley. Dependency-free: fetch (and WebSocket) are the
// platform's or injected; tus-js-client, an optional peer, is imported on the first upload.
// Generated types come from `galley typegen`.
export { AuditApi, MetricsApi, UsersApi } from './admin.ts';
export { ApiKeysApi } from './api-keys.ts';
export { AuthApi } from './auth.ts';
export { SessionsApi } from './auth-sessions.ts';
export { createClient, GalleyClient, type ClientOptions, type Schema } from './client.ts';
export { CollectionsApi, type CollectionInput } from './collections.ts';
export { GalleyError, GalleyNetworkError } from './errors.ts';
export { MfaApi } from './mfa.ts';
export { FilesApi, FileUpload, type FileUrlOptions, type UploadOptions, type UploadRef, type UploadSource } from './files.ts';
export { filter, type FilterScalar, type FilterValue } from './filter.ts';
export type { RealtimeEvent, SubscribeOptions, WebSocketConstructor, WebSocketLike } from './realtime.ts';
export { RecordCollection, type CreateInput, type CreateOptions, type GetOptions, type ListOptions, type UpdateInput, type WriteOptions } from './records.ts';
export { SetupApi } from './setup.ts';
export type { TokenStorage } from './session.ts';
export { WebhooksApi } from './webhooks.ts';
export type { RequestOptions } from './transport.ts';
export type { ApiKey, CreatedApiKey, NewApiKey, SessionInfo } from '@galley/protocol';
export type { DeliveryPage, DeliveryStatus, Webhook, WebhookDelivery, WebhookInput, WebhookStatus, WebhookWithSecret } from '@galley/protocol';
export type { AuditEntry, MetricsSummary, OperandTrace, RouteSummary, RuleTestAuth, RuleTestRequest, RuleTestResult, RuleTrace, RuleVerdict, SetupRequest, SetupStatus, UserPage } from '@galley/protocol';
export type { AuthResponse, LoginResponse, MfaRequiredResponse, MfaStatus, TotpEnrolment, BaseRecord, BatchOperation, BatchResult, CollectionDef, ErrorCode, FieldDef, FieldError, ListResponse, Problem, User } from '@galley/protocol';
