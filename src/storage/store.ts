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

import {
  callRepository,
  deviceSignalRepository,
  handleProfileRepository,
  sandboxRepository,
} from "./simulator.repository.ts";

function repositories(db: Kysely<Database>): Repositories {
  return {
    organizations: organizationRepository(db),
    users: userRepository(db),
    tokens: tokenRepository(db),
    phoneNumbers: phoneNumberRepository(db),
    chats: chatRepository(db),
    messages: messageRepository(db),
    attachments: attachmentRepository(db),
    reactions: reactionRepository(db),
    contacts: contactRepository(db),
    webhookSubscriptions: webhookSubscriptionRepository(db),
    events: eventRepository(db),
    inbox: inboxRepository(db),
    handleProfiles: handleProfileRepository(db),
    deviceSignals: deviceSignalRepository(db),
    calls: callRepository(db),
    sandbox: sandboxRepository(db),
  };
}

/** The Kysely adapter of the Store port: the same code on SQLite and Postgres. */
export function createStore(db: Kysely<Database>): Store {
  return {
    read: repositories(db),
    transaction: (work) => db.transaction().execute((trx) => work(repositories(trx))),
  };
}
