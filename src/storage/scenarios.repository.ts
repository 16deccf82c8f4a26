import { sql, type Kysely, type Selectable } from "kysely";
import type { DeliveryScenarioRepository } from "../core/ports.ts";
import type { DeliveryScenario, ScenarioKind, ScenarioStatus } from "../core/scenarios/delivery-scenario.ts";
import { anyOf, compiledOnce } from "./compiled-once.ts";
import { stamp } from "./mappers.ts";
import type { Database } from "./schema.ts";

// Every send asks it (the carrier's step) and every event with a webhook delivery: compiled
// once, the kinds one list value (see compiled-once.ts).
const selectNextArmed = compiledOnce((db, a: { chatId: number; kinds: readonly ScenarioKind[] }) =>
  db
    .selectFrom("delivery_scenarios")
    .selectAll()
    .where("chat_id", "=", a.chatId)
    .where("status", "=", "armed")
    .where(anyOf(db, "kind", a.kinds))
    .orderBy("id")
    // A literal: SQLite plans with a bound LIMIT's value and prepares such a statement
    // again at every execution (measured: 3–4× the time of the same query with `limit 1`).
    .limit(sql.lit(1)),
);

function scenarioRowToScenario(row: Selectable<Database["delivery_scenarios"]>): DeliveryScenario {
  return {
    id: row.id,
    orgId: row.org_id,
    kind: row.kind as ScenarioKind,
    chatId: row.chat_id,
    messageId: row.message_id,
    code: row.code,
    delayMs: row.delay_ms,
    status: row.status as ScenarioStatus,
    eventIds: JSON.parse(row.event_ids) as string[],
    createdAt: new Date(row.created_at),
    appliedAt: row.applied_at === null ? null : new Date(row.applied_at),
  };
}

export function deliveryScenarioRepository(db: Kysely<Database>): DeliveryScenarioRepository {
  return {
    async create(scenario) {
      const row = await db
        .insertInto("delivery_scenarios")
        .values({
          org_id: scenario.orgId,
          kind: scenario.kind,
          chat_id: scenario.chatId,
          message_id: scenario.messageId,
          code: scenario.code,
          delay_ms: scenario.delayMs,
          status: "armed",
          event_ids: "[]",
          created_at: stamp(scenario.createdAt),
          applied_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return scenarioRowToScenario(row);
    },

    async findById(orgId, id) {
      const row = await db.selectFrom("delivery_scenarios").selectAll().where("org_id", "=", orgId).where("id", "=", id).executeTakeFirst();
      return row && scenarioRowToScenario(row);
    },

    async list(orgId) {
      const rows = await db.selectFrom("delivery_scenarios").selectAll().where("org_id", "=", orgId).orderBy("id").execute();
      return rows.map(scenarioRowToScenario);
    },

    async delete(orgId, id) {
      const result = await db.deleteFrom("delivery_scenarios").where("org_id", "=", orgId).where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async nextArmed(chatId, kinds) {
      if (kinds.length === 0) return undefined;
      const [row] = (await selectNextArmed(db, { chatId, kinds })).rows;
      return row && scenarioRowToScenario(row);
    },

    async recordApplied(id, change, now) {
      const row = await db.selectFrom("delivery_scenarios").select(["event_ids", "message_id", "applied_at"]).where("id", "=", id).executeTakeFirst();
      if (!row) return;
      const eventIds = [...(JSON.parse(row.event_ids) as string[]), ...change.eventIds];
      await db
        .updateTable("delivery_scenarios")
        .set({
          status: "applied",
          applied_at: row.applied_at ?? stamp(now),
          message_id: change.messageId ?? row.message_id,
          event_ids: JSON.stringify(eventIds),
        })
        .where("id", "=", id)
        .execute();
    },
  };
}
