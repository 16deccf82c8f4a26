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
import { eventRepository, webhookSubscriptionRepository } from "./webhooks.repository.ts";
import { inboxRepository } from "./inbox.repository.ts";
import { addJobs } from "./outbound/add-jobs.ts";
import { attachmentUploadRepository, contactCardRepository } from "./uploads.repository.ts";

import { deliveryScenarioRepository } from "./scenarios.repository.ts";
import { callRepository, deviceSignalRepository, sandboxRepository } from "./simulator.repository.ts";

export function repositories(db: Kysely<Database>, onDeliveriesWritten?: () => void): Repositories {
  return {
    organizations: organizationRepository(db),
    users: userRepository(db),
    tokens: tokenRepository(db),
    phoneNumbers: phoneNumberRepository(db),
    chats: chatRepository(db),
    messages: messageRepository(db),
    attachments: attachmentRepository(db),
    attachmentUploads: attachmentUploadRepository(db),
    contactCards: contactCardRepository(db),
    reactions: reactionRepository(db),
    contacts: contactRepository(db),
    webhookSubscriptions: webhookSubscriptionRepository(db),
    events: eventRepository(db, onDeliveriesWritten),
    inbox: inboxRepository(db),
    deviceSignals: deviceSignalRepository(db),
    calls: callRepository(db),
    sandbox: sandboxRepository(db),
    outboundJobs: { add: (jobs, now) => addJobs(db, jobs, now) },
    deliveryScenarios: deliveryScenarioRepository(db),
  };
}

export interface StoreHooks {
  /**
   * Called after a commit that queued webhook deliveries (never for a rollback, never
   * for a change that fanned out to no subscription), so the worker wakes only when
   * there is work and only once that work is visible to it.
   */
  onDeliveriesCommitted?: () => void;
}

/** The Kysely adapter of the Store port: the same code on SQLite and Postgres. */
export function createStore(db: Kysely<Database>, hooks: StoreHooks = {}): Store {
  const committed = () => hooks.onDeliveriesCommitted?.();
  return {
    read: repositories(db, committed),
    async transaction(work) {
      let queuedDeliveries = false;
      const result = await db.transaction().execute((trx) =>
        work(
          repositories(trx, () => {
            queuedDeliveries = true;
          }),
        ),
      );
      if (queuedDeliveries) committed();
      return result;
    },
  };
}
