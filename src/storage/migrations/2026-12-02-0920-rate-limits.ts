import { sql, type Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 * Per-token rate limits shared by every node on one Postgres database: the table
 * rate-limiter-flexible's Postgres store counts in (its own layout, which it would otherwise
 * create on first use). SQLite counts in memory, so it has no table.
 */
export async function up(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  if (dialect !== "postgres") return;
  await sql`create table rate_limits (key varchar(255) primary key, points integer not null default 0, expire bigint)`.execute(db);
  await sql`create index rate_limits_expire on rate_limits (expire)`.execute(db);
}
