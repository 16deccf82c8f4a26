import { sql, type Kysely } from "kysely";
import { DomainError } from "../core/errors.ts";
import {
  SANDBOX_TABLE_NAMES,
  SANDBOX_TABLES,
  type SandboxOrganization,
  type SandboxRow,
  type SandboxTable,
} from "../core/transfer/sandbox-file.ts";
import type { ImportTarget, SandboxTransferStore } from "../core/transfer/sandbox-transfer.service.ts";
import { isUniqueViolation } from "./database.ts";
import { stamp } from "./mappers.ts";
import type { MigrationDialect } from "./migrations/index.ts";
import type { Database } from "./schema.ts";
import type { SecretBox } from "./secret-box.ts";
import { insertSubscriptionRows, phoneNumbersColumn, webhookSubscriptionRepository } from "./webhooks.repository.ts";

/**
 * The storage side of sandbox export and import (src/core/transfer): rows as stored, with
 * their ids, one organization at a time. Tables are named from the file format's list, so
 * the queries are built on an untyped Kysely; every name comes from that fixed list.
 */

/** Values per IN list: far below either dialect's parameter limit. */
const CHUNK = 500;
/** Rows per INSERT (about 20 columns each). */
const INSERT_BATCH = 100;

/** What makes an organization non-empty: importing into it would mix two sandboxes. */
const CONTENT_TABLES = ["chats", "messages", "contacts", "webhook_subscriptions", "handle_profiles", "calls", "contact_cards"] as const;
/** Tables the target organization's own rows are replaced in (a fresh server made them). */
const REPLACED_TABLES: readonly SandboxTable[] = ["users", "phone_numbers"];
/** Columns besides `id` that are unique across organizations. */
const UNIQUE_COLUMNS: Partial<Record<SandboxTable, string[]>> = {
  phone_numbers: ["uuid", "phone_number"],
  chats: ["uuid"],
  chat_handles: ["uuid"],
  messages: ["uuid"],
  webhook_subscriptions: ["uuid"],
};
/** Tables with a serial id whose sequence (Postgres) must pass the imported ids. */
const SERIAL_TABLES = ["organizations", ...SANDBOX_TABLE_NAMES.filter((t) => t !== "attachments")];

const chunks = <T>(values: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(values.length / size) }, (_, i) => values.slice(i * size, (i + 1) * size));

function columnsOf(table: SandboxTable): string[] {
  return Object.keys(SANDBOX_TABLES[table]).filter((c) => c !== "data");
}

export function sandboxTransferRepository(typed: Kysely<Database>, dialect: MigrationDialect, secrets: SecretBox): SandboxTransferStore {
  const untyped = typed as unknown as Kysely<any>;

  async function exportOrganization(db: Kysely<any>, orgId: number, withSecrets: boolean): Promise<SandboxOrganization | undefined> {
    const org = await db.selectFrom("organizations").select(["id", "name", "created_at"]).where("id", "=", orgId).executeTakeFirst();
    if (!org) return undefined;
    const tables = {} as Record<SandboxTable, SandboxRow[]>;
    for (const table of SANDBOX_TABLE_NAMES) {
      if (table === "webhook_subscriptions") continue;
      let query = db.selectFrom(table).select(columnsOf(table));
      if (table === "attachments") query = query.select("storage_key").orderBy("message_id").orderBy("position").orderBy("id");
      else query = query.orderBy("id");
      query =
        table === "chat_handles"
          ? query.where("chat_id", "in", (eb: any) => eb.selectFrom("chats").select("id").where("org_id", "=", orgId))
          : query.where("org_id", "=", orgId);
      tables[table] = (await query.execute()) as SandboxRow[];
    }
    // Secrets are read through the repository, which knows how they are kept.
    const subscriptions = await webhookSubscriptionRepository(typed, secrets).list(orgId);
    tables.webhook_subscriptions = subscriptions.map((s) => ({
      id: s.id,
      uuid: s.uuid,
      webhook_url: s.webhookUrl,
      version: s.version,
      events: JSON.stringify(s.events),
      active: s.active ? 1 : 0,
      secret: withSecrets ? s.secret : null,
      phone_numbers: phoneNumbersColumn(s.phoneNumbers),
      delivery_attempts: s.deliveryAttempts,
      last_delivered_at: s.lastDeliveredAt ? stamp(s.lastDeliveredAt) : null,
      created_at: stamp(s.createdAt),
      updated_at: stamp(s.updatedAt),
    }));
    return { organization: { id: org.id as number, name: org.name as string, created_at: org.created_at as string }, tables };
  }

  async function checkImport(db: Kysely<any>, targets: readonly ImportTarget[]): Promise<void> {
    const conflict = (message: string) =>
      new DomainError("conflict", `${message}; import into an empty store (a fresh data directory or database)`, { resource: "sandbox" });
    for (const { organization, intoOrgId } of targets) {
      const exists = await db.selectFrom("organizations").select("id").where("id", "=", intoOrgId).executeTakeFirst();
      if (exists) {
        for (const table of CONTENT_TABLES) {
          const row = await db.selectFrom(table).select("id").where("org_id", "=", intoOrgId).limit(1).executeTakeFirst();
          if (row) throw conflict(`organization ${intoOrgId} already has ${table.replace("_", " ")}`);
        }
      }
      for (const table of SANDBOX_TABLE_NAMES) {
        const rows = organization.tables[table];
        for (const column of ["id", ...(UNIQUE_COLUMNS[table] ?? [])]) {
          for (const values of chunks(rows.map((r) => r[column]), CHUNK)) {
            if (values.length === 0) continue;
            let query = db.selectFrom(table).select(column).where(column, "in", values);
            // The target's own users and numbers give way to the file's.
            if (REPLACED_TABLES.includes(table)) query = query.where("org_id", "<>", intoOrgId);
            const taken = await query.limit(1).executeTakeFirst();
            if (taken) throw conflict(`${table} ${column} ${String(taken[column])} is already in the store`);
          }
        }
      }
    }
  }

  async function writeOrganization(db: Kysely<any>, { organization, intoOrgId }: ImportTarget): Promise<void> {
    const org = organization.organization;
    const exists = await db.selectFrom("organizations").select("id").where("id", "=", intoOrgId).executeTakeFirst();
    if (!exists) await db.insertInto("organizations").values({ id: intoOrgId, name: org.name, created_at: org.created_at }).execute();
    await db.deleteFrom("phone_numbers").where("org_id", "=", intoOrgId).execute();
    await db.deleteFrom("users").where("org_id", "=", intoOrgId).execute();
    for (const table of SANDBOX_TABLE_NAMES) {
      const rows = organization.tables[table];
      if (rows.length === 0) continue;
      if (table === "webhook_subscriptions") {
        await insertSubscriptionRows(db as Kysely<Database>, secrets, intoOrgId, rows);
        continue;
      }
      const values = rows.map((row) => {
        const stored: Record<string, unknown> = {};
        for (const column of columnsOf(table)) stored[column] = row[column];
        if (table !== "chat_handles") stored.org_id = intoOrgId;
        // The file's bytes are stored under the attachment's id (import stages them so).
        if (table === "attachments") stored.storage_key = row.id;
        return stored;
      });
      for (const batch of chunks(values, INSERT_BATCH)) await db.insertInto(table).values(batch).execute();
    }
  }

  return {
    async organizationIds() {
      const rows = await typed.selectFrom("organizations").select("id").orderBy("id").execute();
      return rows.map((r) => r.id);
    },

    exportOrganization: (orgId, { secrets }) => exportOrganization(untyped, orgId, secrets),

    checkImport: (targets) => checkImport(untyped, targets),

    async importOrganizations(targets) {
      try {
        await untyped.transaction().execute(async (trx) => {
          await checkImport(trx, targets);
          for (const target of targets) await writeOrganization(trx, target);
          if (dialect === "postgres") {
            // Rows came with their ids: the next generated id must come after them.
            for (const table of SERIAL_TABLES) {
              await sql`select setval(pg_get_serial_sequence(${table}, 'id'), max_id) from (select max(id) as max_id from ${sql.table(table)}) m where max_id is not null`.execute(
                trx,
              );
            }
          }
        });
      } catch (error) {
        if (isUniqueViolation(error) || isForeignKeyViolation(error)) {
          throw new DomainError("conflict", `the store already holds rows the file names (${(error as Error).message}); import into an empty store`, {
            resource: "sandbox",
          });
        }
        throw error;
      }
    },
  };
}

function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === "23503" || code === "SQLITE_CONSTRAINT_FOREIGNKEY";
}
