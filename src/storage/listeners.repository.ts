import { sql, type Kysely } from "kysely";
import type { DomainEventType } from "../core/events/domain-events.ts";
import type { EventListener, ListenerRepository, PositionedEvent } from "../delivery/ports.ts";
import type { MigrationDialect } from "./migrations/index.ts";
import { stamp } from "./mappers.ts";
import type { Database, EventListenerRow } from "./schema.ts";
import type { SecretBox } from "./secret-box.ts";

/** Events numbered per run at most; a backlog takes several runs, each a short transaction. */
const NUMBERING_BATCH = 1_000;
/** Runs one call makes at most before it settles for what is numbered (writers may never pause). */
const NUMBERING_RUNS = 50;

function listenerRowToListener(row: EventListenerRow, secrets: SecretBox): EventListener {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    secret: secrets.open(row.sealed_secret),
    ackedPosition: Number(row.acked_position),
    ackedAt: row.acked_at === null ? null : new Date(row.acked_at),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/**
 * Listener cursors over `events.position`.
 *
 * Numbering is why a cursor is safe on several nodes: a position is handed out only to an
 * event that has committed, by a numbering run that holds the counter row's lock, so runs
 * take turns and each one's positions become visible at once, all after the previous run's.
 * Writers never touch the counter, so emitting an event costs nothing more than before and
 * no writer waits on another. Within one run, events go in insertion order (Postgres `seq`,
 * SQLite rowid); a chat's events were inserted in commit order, since the transactions that
 * write them serialize on the chat.
 */
export function listenerRepository(db: Kysely<Database>, dialect: MigrationDialect, secrets: SecretBox): ListenerRepository {
  const insertionOrder = sql.raw(dialect === "postgres" ? "seq" : "rowid");

  /** One numbering run; returns whether it numbered anything. */
  async function numberOnce(): Promise<boolean> {
    const waiting = await db.selectFrom("events").select("id").where("position", "is", null).limit(1).executeTakeFirst();
    if (!waiting) return false;
    return await db.transaction().execute(async (trx) => {
      // Takes the counter's row lock (Postgres) before looking: runs take turns.
      const counter = await trx
        .updateTable("event_position_counter")
        .set((eb) => ({ last_position: eb.ref("last_position") }))
        .where("id", "=", 1)
        .returning("last_position")
        .executeTakeFirstOrThrow();
      const last = Number(counter.last_position);
      const numbered = await sql<{ position: number | string }>`
        with next as (
          select id, row_number() over (order by ${insertionOrder}) as n
          from events where position is null
          order by ${insertionOrder} limit ${NUMBERING_BATCH}
        )
        update events set position = cast(${last} as bigint) + next.n
        from next where events.id = next.id
        returning position`.execute(trx);
      if (numbered.rows.length === 0) return false;
      // The highest handed out, not the count: a row purged meanwhile leaves a gap, never a reuse.
      const highest = Math.max(...numbered.rows.map((row) => Number(row.position)));
      await trx.updateTable("event_position_counter").set({ last_position: highest }).where("id", "=", 1).execute();
      return true;
    });
  }

  async function numberCommitted(): Promise<void> {
    for (let run = 0; run < NUMBERING_RUNS && (await numberOnce()); run++);
  }

  async function lastPosition(): Promise<number> {
    const row = await db.selectFrom("event_position_counter").select("last_position").where("id", "=", 1).executeTakeFirstOrThrow();
    return Number(row.last_position);
  }

  async function find(orgId: number, name: string): Promise<EventListener | undefined> {
    const row = await db.selectFrom("event_listeners").selectAll().where("org_id", "=", orgId).where("name", "=", name).executeTakeFirst();
    return row && listenerRowToListener(row, secrets);
  }

  async function readAfter(orgId: number, position: number, limit: number): Promise<PositionedEvent[]> {
    const rows = await db
      .selectFrom("events")
      .select(["id", "org_id", "event_type", "chat_id", "payload", "payload_format", "created_at", "position"])
      .where("org_id", "=", orgId)
      .where("position", ">", position)
      .orderBy("position")
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      position: Number(row.position),
      id: row.id,
      orgId: row.org_id,
      eventType: row.event_type as DomainEventType,
      chatId: row.chat_id,
      payload: row.payload,
      payloadFormat: row.payload_format === "domain" ? "domain" : "v2-envelope",
      createdAt: new Date(row.created_at),
    }));
  }

  return {
    async open(orgId, name, newSecret, now) {
      const existing = await find(orgId, name);
      if (existing) return { listener: existing, created: false };
      await numberCommitted();
      const inserted = await db
        .insertInto("event_listeners")
        .values({
          org_id: orgId,
          name,
          sealed_secret: secrets.seal(newSecret),
          acked_position: await lastPosition(),
          acked_at: null,
          created_at: stamp(now),
          updated_at: stamp(now),
        })
        .onConflict((oc) => oc.columns(["org_id", "name"]).doNothing())
        .returningAll()
        .executeTakeFirst();
      // Two starts of one name at once: the first insert wins, both get it.
      if (inserted) return { listener: listenerRowToListener(inserted, secrets), created: true };
      return { listener: (await find(orgId, name))!, created: false };
    },
    find,
    async list(orgId) {
      const rows = await db.selectFrom("event_listeners").selectAll().where("org_id", "=", orgId).orderBy("name").execute();
      return rows.map((row) => listenerRowToListener(row, secrets));
    },
    async delete(orgId, name) {
      const result = await db.deleteFrom("event_listeners").where("org_id", "=", orgId).where("name", "=", name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async rewind(orgId, name, since, now) {
      await numberCommitted();
      const first = await db
        .selectFrom("events")
        .select((eb) => eb.fn.min("position").as("position"))
        .where("org_id", "=", orgId)
        .where("created_at", ">=", stamp(since))
        .where("position", "is not", null)
        .executeTakeFirst();
      const position = first?.position == null ? await lastPosition() : Number(first.position) - 1;
      const row = await db
        .updateTable("event_listeners")
        .set({ acked_position: position, updated_at: stamp(now) })
        .where("org_id", "=", orgId)
        .where("name", "=", name)
        .returningAll()
        .executeTakeFirst();
      return row && listenerRowToListener(row, secrets);
    },
    async acknowledge(orgId, name, position, now) {
      // One statement in the usual case: a listener acknowledges every event it forwards.
      const row = await db
        .updateTable("event_listeners")
        .set({ acked_position: position, acked_at: stamp(now), updated_at: stamp(now) })
        .where("org_id", "=", orgId)
        .where("name", "=", name)
        .where("acked_position", "<", position)
        .where((eb) => eb(eb.val(position), "<=", eb.selectFrom("event_position_counter").select("last_position").where("id", "=", 1)))
        .returningAll()
        .executeTakeFirst();
      if (row) return { listener: listenerRowToListener(row, secrets), beyondNewest: false };
      return { listener: await find(orgId, name), beyondNewest: position > (await lastPosition()) };
    },
    lastPosition,
    async eventsAfter(orgId, position, limit) {
      const numbered = await readAfter(orgId, position, limit);
      if (numbered.length === limit || !(await numberOnce())) return numbered;
      return readAfter(orgId, position, limit);
    },
  };
}
