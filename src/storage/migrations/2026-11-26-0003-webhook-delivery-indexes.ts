import type { Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 * Indexes the delivery worker and the retention sweep need: deleting an event cascades to
 * its deliveries and from each delivery to its attempts, which without an index on
 * webhook_attempts.delivery_id scans the whole attempt table once per delivery; deleting
 * a subscription cascades to its deliveries the same way. The sweep finds old events by
 * creation time across organizations.
 */
export async function up(db: Kysely<any>, _dialect: MigrationDialect): Promise<void> {
  await db.schema.createIndex("webhook_attempts_delivery").on("webhook_attempts").column("delivery_id").execute();
  // Not (subscription_id, status): every status change would move an entry of it too.
  await db.schema
    .createIndex("webhook_deliveries_subscription")
    .on("webhook_deliveries")
    .column("subscription_id")
    .execute();
  await db.schema.createIndex("events_created").on("events").column("created_at").execute();
}
