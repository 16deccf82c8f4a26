import type { Kysely } from "kysely";
import type { MigrationDialect } from "./index.ts";

/**
 * Frozen: never edit once released; add a new migration instead.
 * Secrets at rest: webhook signing secrets move to `sealed_secret` (AES-256-GCM under a key
 * kept outside the database), tokens are rekeyed from plain SHA-256 to an HMAC, and the key's
 * fingerprint is remembered so a node with another key is refused. The rewriting itself
 * needs the key, which migrations never see: it runs at start (secureStoredSecrets) for the
 * rows these columns mark as still in the old form.
 */
export async function up(db: Kysely<any>, _dialect: MigrationDialect): Promise<void> {
  await db.schema.alterTable("webhook_subscriptions").addColumn("sealed_secret", "text").execute();
  // Rows written before this migration hold plain SHA-256 hex; new rows say "hmac".
  await db.schema
    .alterTable("api_tokens")
    .addColumn("hash_kind", "text", (c) => c.notNull().defaultTo("sha256"))
    .execute();
  await db.schema
    .createTable("secret_key_fingerprint")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
}
