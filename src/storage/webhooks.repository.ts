import type { Kysely } from "kysely";
import { compiledOnce } from "./compiled-once.ts";
import type { EventRepository, WebhookSubscriptionRepository } from "../core/ports.ts";
import { randomUUID } from "node:crypto";
import { flag, isRowId, isUuid, stamp, subscriptionRowToSubscription } from "./mappers.ts";
import type { Database, WebhookSubscriptionRow } from "./schema.ts";
import type { SecretBox } from "./secret-box.ts";

/**
 * The signing secret of a row: sealed in `sealed_secret`; a row from before sealing still has
 * it in `secret` until the start seals it (secureStoredSecrets), so reads take either.
 */
export function openSubscriptionSecret(
  secrets: SecretBox,
  row: Pick<WebhookSubscriptionRow, "secret" | "sealed_secret">,
): string | null {
  return row.sealed_secret !== null ? secrets.open(row.sealed_secret) : row.secret;
}

/** Signing secrets are sealed here, so every subscription row (every face's) goes through the SecretBox. */
export function webhookSubscriptionRepository(db: Kysely<Database>, secrets: SecretBox): WebhookSubscriptionRepository {
  const toSubscription = (row: WebhookSubscriptionRow) => subscriptionRowToSubscription(row, openSubscriptionSecret(secrets, row));
  const seal = (secret: string | null) => (secret === null ? null : secrets.seal(secret));
  return {
    async create(subscription, now) {
      const row = await db
        .insertInto("webhook_subscriptions")
        .values({
          uuid: randomUUID(),
          org_id: subscription.orgId,
          webhook_url: subscription.webhookUrl,
          version: subscription.version,
          events: JSON.stringify(subscription.events),
          active: flag(subscription.active),
          secret: null,
          sealed_secret: seal(subscription.secret),
          phone_numbers: phoneNumbersColumn(subscription.phoneNumbers),
          delivery_attempts: 0,
          last_delivered_at: null,
          created_at: stamp(now),
          updated_at: stamp(now),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toSubscription(row);
    },
    async list(orgId) {
      const rows = await db
        .selectFrom("webhook_subscriptions")
        .selectAll()
        .where("org_id", "=", orgId)
        .orderBy("id")
        .execute();
      return rows.map(toSubscription);
    },
    async findById(orgId, id) {
      if (!isRowId(id)) return undefined;
      const row = await db
        .selectFrom("webhook_subscriptions")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("id", "=", id)
        .executeTakeFirst();
      return row && toSubscription(row);
    },
    async findByUuid(orgId, uuid) {
      if (!isUuid(uuid)) return undefined;
      const row = await db
        .selectFrom("webhook_subscriptions")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("uuid", "=", uuid)
        .executeTakeFirst();
      return row && toSubscription(row);
    },
    async update(orgId, id, changes, now) {
      const row = await db
        .updateTable("webhook_subscriptions")
        .set({
          ...(changes.webhookUrl !== undefined ? { webhook_url: changes.webhookUrl } : {}),
          ...(changes.version !== undefined ? { version: changes.version } : {}),
          ...(changes.events !== undefined ? { events: JSON.stringify(changes.events) } : {}),
          ...(changes.active !== undefined ? { active: flag(changes.active) } : {}),
          ...(changes.secret !== undefined ? { secret: null, sealed_secret: seal(changes.secret) } : {}),
          ...(changes.phoneNumbers !== undefined ? { phone_numbers: phoneNumbersColumn(changes.phoneNumbers) } : {}),
          updated_at: stamp(now),
        })
        .where("org_id", "=", orgId)
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toSubscription(row);
    },
    async delete(orgId, id) {
      await db.deleteFrom("webhook_subscriptions").where("org_id", "=", orgId).where("id", "=", id).execute();
    },
    async listActive(orgId) {
      const { rows } = await selectActiveSubscriptions(db, { orgId });
      return rows.map(toSubscription);
    },
  };
}

/** No filter is stored as null, whether given as null or as an empty list. */
export function phoneNumbersColumn(numbers: readonly string[] | null | undefined): string | null {
  return numbers && numbers.length > 0 ? JSON.stringify(numbers) : null;
}

// Every change that emits an event runs these two: compiled once (see compiled-once.ts).
const selectActiveSubscriptions = compiledOnce((db, a: { orgId: number }) =>
  db.selectFrom("webhook_subscriptions").selectAll().where("org_id", "=", a.orgId).where("active", "=", 1).orderBy("id"),
);
const insertEvent = compiledOnce(
  (
    db,
    a: { id: string; orgId: number; eventType: string; chatId: number | null; payload: string; createdAt: string; scenarioId: number | null },
  ) =>
    db.insertInto("events").values({
      id: a.id,
      org_id: a.orgId,
      event_type: a.eventType,
      chat_id: a.chatId,
      payload: a.payload,
      payload_format: "domain",
      created_at: a.createdAt,
      scenario_id: a.scenarioId,
    }),
);

/** `onDeliveriesWritten` is told when an append queued deliveries (the store wakes the worker after commit). */
export function eventRepository(db: Kysely<Database>, onDeliveriesWritten: () => void = () => {}): EventRepository {
  return {
    async append(event, deliveries) {
      const createdAt = stamp(event.createdAt);
      await insertEvent(db, {
        id: event.id,
        orgId: event.orgId,
        eventType: event.eventType,
        chatId: event.chatId,
        payload: event.payload,
        createdAt,
        scenarioId: event.scenarioId ?? null,
      });
      if (deliveries.length === 0) return;
      onDeliveriesWritten();
      await db
        .insertInto("webhook_deliveries")
        .values(
          deliveries.map((delivery) => ({
            org_id: event.orgId,
            event_id: event.id,
            subscription_id: delivery.subscriptionId,
            event_type: delivery.eventType,
            body: delivery.body,
            // An unordered delivery (a scenario reordering it) neither waits for nor holds back the chat's others.
            chat_id: delivery.ordered === false ? null : event.chatId,
            status: "pending",
            attempt_count: 0,
            next_attempt_at: delivery.dueAt ? stamp(delivery.dueAt) : createdAt,
            scenario_id: delivery.scenarioId ?? null,
            claimed_until: null,
            claimed_by: null,
            last_response_status: null,
            last_error: null,
            created_at: createdAt,
            updated_at: createdAt,
          })),
        )
        .execute();
    },
  };
}

/**
 * Writes subscriptions as a sandbox file carries them (their ids kept), into `orgId`. Beside
 * `create`, the one other place a subscription's secret is written.
 */
export async function insertSubscriptionRows(
  db: Kysely<Database>,
  secrets: SecretBox,
  orgId: number,
  rows: readonly Record<string, string | number | null>[],
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto("webhook_subscriptions")
    .values(
      rows.map((row) => ({
        id: Number(row.id),
        uuid: String(row.uuid),
        org_id: orgId,
        webhook_url: String(row.webhook_url),
        version: Number(row.version),
        events: String(row.events),
        active: Number(row.active),
        secret: null,
        sealed_secret: row.secret === null ? null : secrets.seal(String(row.secret)),
        phone_numbers: row.phone_numbers === null ? null : String(row.phone_numbers),
        delivery_attempts: Number(row.delivery_attempts),
        last_delivered_at: row.last_delivered_at === null ? null : String(row.last_delivered_at),
        created_at: String(row.created_at),
        updated_at: String(row.updated_at),
      })),
    )
    .execute();
}
