import type { Kysely, Migration, MigrationProvider } from "kysely";
import * as initial from "./2026-11-25-0001-initial.ts";
import * as simulator from "./2026-11-26-0001-simulator.ts";
import * as attachmentPosition from "./2026-11-26-0002-attachment-position.ts";
import * as webhookDeliveryIndexes from "./2026-11-26-0003-webhook-delivery-indexes.ts";
import * as apiFaults from "./2026-12-02-0525-api-faults.ts";
import * as v3IdsAndParts from "./2026-12-02-0545-v3-ids-and-parts.ts";
import * as chatCurrentMembers from "./2026-12-02-0620-chat-current-members.ts";
import * as domainEvents from "./2026-12-02-0650-domain-events.ts";
import * as deliveryChatOrder from "./2026-12-02-0732-delivery-chat-order.ts";
import * as attachmentUploads from "./2026-12-02-0750-attachment-uploads.ts";
import * as outboundJobs from "./2026-12-02-0750-outbound-jobs.ts";
import * as deliveryScenarios from "./2026-12-02-0830-delivery-scenarios.ts";
import * as carrierEvents from "./2026-12-02-0900-carrier-events.ts";
import * as secretsAtRest from "./2026-12-02-0905-secrets-at-rest.ts";
import * as v3WebhookSubscriptions from "./2026-12-02-0915-v3-webhook-subscriptions.ts";
import * as rateLimits from "./2026-12-02-0920-rate-limits.ts";
import * as eventListeners from "./2026-12-02-0925-event-listeners.ts";
import * as messageEditCount from "./2026-12-02-1030-message-edit-count.ts";
import * as attemptsByDelivery from "./2026-12-02-1445-attempts-by-delivery.ts";

export type MigrationDialect = "sqlite" | "postgres";

interface DialectMigration {
  up(db: Kysely<any>, dialect: MigrationDialect): Promise<void>;
}

/** Every migration, in order. Names carry a sortable date prefix; never rename or edit one. */
const MIGRATIONS: Record<string, DialectMigration> = {
  "2026-11-25-0001-initial": initial,
  "2026-11-26-0001-simulator": simulator,
  "2026-11-26-0002-attachment-position": attachmentPosition,
  "2026-11-26-0003-webhook-delivery-indexes": webhookDeliveryIndexes,
  "2026-12-02-0525-api-faults": apiFaults,
  "2026-12-02-0545-v3-ids-and-parts": v3IdsAndParts,
  "2026-12-02-0620-chat-current-members": chatCurrentMembers,
  "2026-12-02-0650-domain-events": domainEvents,
  "2026-12-02-0732-delivery-chat-order": deliveryChatOrder,
  "2026-12-02-0750-attachment-uploads": attachmentUploads,
  "2026-12-02-0750-outbound-jobs": outboundJobs,
  "2026-12-02-0830-delivery-scenarios": deliveryScenarios,
  "2026-12-02-0900-carrier-events": carrierEvents,
  "2026-12-02-0905-secrets-at-rest": secretsAtRest,
  "2026-12-02-0915-v3-webhook-subscriptions": v3WebhookSubscriptions,
  "2026-12-02-0920-rate-limits": rateLimits,
  "2026-12-02-0925-event-listeners": eventListeners,
  "2026-12-02-1030-message-edit-count": messageEditCount,
  "2026-12-02-1445-attempts-by-delivery": attemptsByDelivery,
};

/** Static provider: no directory scanning, so bundling or running from TS both work. */
export function migrationProvider(dialect: MigrationDialect): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return Object.fromEntries(
        Object.entries(MIGRATIONS).map(([name, migration]) => [
          name,
          { up: (db: Kysely<any>) => migration.up(db, dialect) },
        ]),
      );
    },
  };
}
