import { sql, type Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 * `openlinq listen`: a listener (per organization, by name) keeps a durable cursor, the
 * position of the last event it acknowledged. Positions are handed out after commit, in
 * the order the events became visible (see storage/listeners.repository.ts), so nothing
 * committed late can land behind a cursor: `events.position` stays null until then.
 * Postgres has no insertion order of its own, so events get a `seq`; SQLite's rowid is one.
 */
export async function up(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  await db.schema.alterTable("events").addColumn("position", "bigint").execute();
  if (dialect === "postgres") await db.schema.alterTable("events").addColumn("seq", "bigserial").execute();
  await db.schema.createIndex("events_org_position").on("events").columns(["org_id", "position"]).execute();
  // The rows still to number: a small partial index, empty between numbering runs.
  await db.schema
    .createIndex("events_unpositioned")
    .on("events")
    .column(dialect === "postgres" ? "seq" : "position")
    .where(sql.ref("position"), "is", null)
    .execute();

  // One row: the last position handed out. Never derived from events, which retention purges.
  await db.schema
    .createTable("event_position_counter")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("last_position", "bigint", (c) => c.notNull())
    .execute();
  await db.insertInto("event_position_counter").values({ id: 1, last_position: 0 }).execute();

  const table = (name: string) =>
    dialect === "postgres"
      ? db.schema.createTable(name).addColumn("id", "serial", (c) => c.primaryKey())
      : db.schema.createTable(name).addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
  await table("event_listeners")
    .addColumn("org_id", "integer", (c) => c.notNull().references("organizations.id"))
    .addColumn("name", "text", (c) => c.notNull())
    // Sealed like subscriptions' signing secrets (storage/secret-box.ts).
    .addColumn("sealed_secret", "text", (c) => c.notNull())
    .addColumn("acked_position", "bigint", (c) => c.notNull())
    .addColumn("acked_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("event_listeners_org_name").unique().on("event_listeners").columns(["org_id", "name"]).execute();
}
