import type { Kysely } from "kysely";
import type { Repositories, Store } from "../core/ports.ts";
import {
  organizationRepository,
  phoneNumberRepository,
  tokenRepository,
  userRepository,
} from "./accounts.repository.ts";
import { contactRepository } from "./contacts.repository.ts";
import {
  attachmentRepository,
  chatRepository,
  messageRepository,
  reactionRepository,
} from "./messaging.repository.ts";
import type { Database } from "./schema.ts";
import type { SecretBox } from "./secret-box.ts";
import { eventRepository, webhookSubscriptionRepository } from "./webhooks.repository.ts";
import { inboxRepository } from "./inbox.repository.ts";
import { addJobs } from "./outbound/add-jobs.ts";
import { stamp } from "./mappers.ts";
import { attachmentUploadRepository, contactCardRepository } from "./uploads.repository.ts";

import { deliveryScenarioRepository } from "./scenarios.repository.ts";
import { callRepository, deviceSignalRepository, sandboxRepository } from "./simulator.repository.ts";

/** `secrets` seals webhook signing secrets and keys token hashes (see secret-box.ts). */
export function repositories(db: Kysely<Database>, secrets: SecretBox, onDeliveriesWritten?: () => void): Repositories {
  return {
    organizations: organizationRepository(db),
    users: userRepository(db),
    tokens: tokenRepository(db, secrets),
    phoneNumbers: phoneNumberRepository(db),
    chats: chatRepository(db),
    messages: messageRepository(db),
    attachments: attachmentRepository(db),
    attachmentUploads: attachmentUploadRepository(db),
    contactCards: contactCardRepository(db),
    reactions: reactionRepository(db),
    contacts: contactRepository(db),
    webhookSubscriptions: webhookSubscriptionRepository(db, secrets),
    events: eventRepository(db, onDeliveriesWritten),
    inbox: inboxRepository(db),
    deviceSignals: deviceSignalRepository(db),
    calls: callRepository(db),
    sandbox: sandboxRepository(db),
    outboundJobs: { add: (jobs, now) => addJobs(db, jobs, now) },
    carrierEvents: {
      async markApplied(orgId, carrierEventId, now) {
        // ON CONFLICT DO NOTHING: a repeat inserts nothing and the transaction carries on
        // (a unique violation would abort it on Postgres).
        const inserted = await db
          .insertInto("carrier_events")
          .values({ org_id: orgId, carrier_event_id: carrierEventId, created_at: stamp(now) })
          .onConflict((oc) => oc.columns(["org_id", "carrier_event_id"]).doNothing())
          .returning("carrier_event_id")
          .execute();
        return inserted.length === 1;
      },
    },
    deliveryScenarios: deliveryScenarioRepository(db),
  };
}

export interface StoreOptions {
  /** The key of secrets at rest (see secret-box.ts). */
  secrets: SecretBox;
  /**
   * Called after a commit that queued webhook deliveries (never for a rollback, never
   * for a change that fanned out to no subscription), so the worker wakes only when
   * there is work and only once that work is visible to it.
   */
  onDeliveriesCommitted?: () => void;
}

/** The Kysely adapter of the Store port: the same code on SQLite and Postgres. */
export function createStore(db: Kysely<Database>, options: StoreOptions): Store {
  const committed = () => options.onDeliveriesCommitted?.();
  return {
    read: repositories(db, options.secrets, committed),
    async transaction(work) {
      let queuedDeliveries = false;
      const result = await db.transaction().execute((trx) =>
        work(
          repositories(trx, options.secrets, () => {
            queuedDeliveries = true;
          }),
        ),
      );
      if (queuedDeliveries) committed();
      return result;
    },
  };
}
