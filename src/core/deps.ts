import type { WebhookRenderer } from "./events/domain-events.ts";
import type { ActivityFeed, Clock, FileStore, Ids, OutboxSignal, StagedFile, Store, Transport } from "./ports.ts";

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
  /**
   * Downloads an attachment URL into the file store's staging area; the composition root
   * decides limits, concurrency and address policy.
   */
  fetchAttachment(url: string): Promise<{ staged: StagedFile; contentType: string | undefined; filename: string }>;
  /**
   * Refuses (url_not_allowed) a webhook URL that can only reach private addresses when
   * the configuration forbids them; `field` names it in the error.
   */
  checkWebhookUrl(url: string, field: string): Promise<void>;
  limits: { maxAttachmentBytes: number };
  /** Each subscription's face renders the webhook bytes of an event (see emitEvent). */
  webhooks: WebhookRenderer;
}
