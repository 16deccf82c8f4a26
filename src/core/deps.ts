import type { WebhookRenderer } from "./events/domain-events.ts";
import type { ActivityFeed, Clock, FileStore, Ids, OutboxSignal, Store, Transport } from "./ports.ts";

/** Builds public URLs for things we serve (attachments). The base is known once we listen. */
export interface Links {
  attachmentUrl(attachmentId: string, filename: string): string;
}

/** Everything core services need, assembled once in src/app.ts. */
export interface CoreDeps {
  store: Store;
  clock: Clock;
  ids: Ids;
  transport: Transport;
  files: FileStore;
  outbox: OutboxSignal;
  activity: ActivityFeed;
  links: Links;
  /** Downloads attachment URLs; the composition root decides limits and address policy. */
  fetchAttachment(url: string): Promise<{ data: Uint8Array; contentType: string | undefined; filename: string }>;
  limits: { maxAttachmentBytes: number };
  /** Each subscription's face renders the webhook bytes of an event (see emitEvent). */
  webhooks: WebhookRenderer;
}
