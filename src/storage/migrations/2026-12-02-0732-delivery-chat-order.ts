import { sql, type Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 * Events of one chat reach each subscription in commit order: a delivery is claimable only
 * while no earlier delivery of the same chat and subscription is still pending (waiting,
 * retrying or in flight). Deliveries carry their event's chat so the claim can ask that
 * through an index; the index holds pending rows only, so it stays as small as the queue.
 */
export async function up(db: Kysely<any>, _dialect: MigrationDialect): Promise<void> {
  await db.schema.alterTable("webhook_deliveries").addColumn("chat_id", "integer").execute();
  // Finished rows are never claimed again unless resent; resends take the chat from the event.
  await db
    .updateTable("webhook_deliveries")
    .set((eb) => ({
      chat_id: eb.selectFrom("events").select("events.chat_id").whereRef("events.id", "=", "webhook_deliveries.event_id"),
    }))
    .where("status", "=", "pending")
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_chat_queue")
    .on("webhook_deliveries")
    .columns(["subscription_id", "chat_id", "id"])
    .where(sql.ref("status"), "=", "pending")
    .execute();
}
