// Shapes of /api/v1/webhooks (docs/webhooks.md): webhooks, the secret shown once, and the
// delivery log.

export type WebhookStatus = 'active' | 'disabled';
/** `pending`: not attempted yet; `failed`: will be retried at `nextAttemptAt`; `dead`: every attempt failed. */
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'dead';

export interface Webhook {
  id: string;
  url: string;
  /** `posts.create`, `posts.*` (every action of a collection) or `*` (everything). */
  events: string[];
  description: string | null;
  enabled: boolean;
  status: WebhookStatus;
  /** Why it is disabled: by a superuser, or after too many dead deliveries (with the last error). */
  disabledReason: string | null;
  /** Consecutive dead deliveries; at GALLEY_WEBHOOK_DISABLE_AFTER the webhook is disabled. */
  failures: number;
  created: string;
  updated: string;
}

/** `POST /api/v1/webhooks`; `PATCH` takes any part of it (`enabled: true` clears the failures). */
export interface WebhookInput {
  url: string;
  events: string[];
  description?: string | null;
  enabled?: boolean;
}

/** The answer to a create or a secret rotation: the only times the secret (`whsec_…`) is shown. */
export interface WebhookWithSecret extends Webhook {
  secret: string;
}

/** An entry of a webhook's delivery log. */
export interface WebhookDelivery {
  id: string;
  /** `collection.action`. */
  event: string;
  /** The change-log number of the change delivered. */
  seq: number;
  status: DeliveryStatus;
  attempts: number;
  /** The receiver's HTTP status of the last attempt, if it answered. */
  responseStatus: number | null;
  error: string | null;
  durationMs: number | null;
  created: string;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
}

/** `GET /api/v1/webhooks/:id/deliveries`: newest first; pass `nextCursor` back as `cursor`. */
export interface DeliveryPage {
  items: WebhookDelivery[];
  nextCursor: string | null;
}
