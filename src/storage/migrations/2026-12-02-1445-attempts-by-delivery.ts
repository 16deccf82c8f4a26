import type { Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 *
 * An event's attempts are read through its deliveries (webhook_deliveries_event, then
 * webhook_attempts_delivery), so webhook_attempts_event goes. Event ids are random UUIDs:
 * every attempt written landed on a random leaf of that index, about one page more per
 * recorded attempt, which was the largest share of what the delivery worker wrote.
 */
export async function up(db: Kysely<any>, _dialect: MigrationDialect): Promise<void> {
  await db.schema.dropIndex("webhook_attempts_event").execute();
}
