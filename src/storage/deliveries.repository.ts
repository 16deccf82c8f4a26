import { sql, type Kysely, type Selectable } from "kysely";
import type { DomainEventType } from "../core/events/domain-events.ts";
import type {
  AttemptResult,
  ClaimedDelivery,
  ClaimRequest,
  DeliveryRepository,
  DeliveryStatus,
  DeliverySummary,
  LoggedAttempt,
  LoggedEvent,
  RequeueOutcome,
} from "../delivery/ports.ts";
import { anyOf, compiledOnce } from "./compiled-once.ts";
import { groupBy, pageWindow, stamp } from "./mappers.ts";
import type { MigrationDialect } from "./migrations/index.ts";
import type {
  Database,
  EventRow,
  WebhookAttemptRow,
  WebhookAttemptTable,
  WebhookDeliveryRow,
  WebhookSubscriptionRow,
} from "./schema.ts";
import type { SecretBox } from "./secret-box.ts";
import { openSubscriptionSecret } from "./webhooks.repository.ts";

/** Rows deleted per statement by the retention sweep, so it never holds the writer long. */
const PURGE_BATCH = 500;
/** Attempt rows per INSERT: 13 columns each stays far below either dialect's parameter limit. */
const INSERT_BATCH = 100;

function latest(results: readonly AttemptResult[]): Date {
  let at = -Infinity;
  for (const result of results) at = Math.max(at, result.attempt.attemptedAt.getTime());
  return new Date(at);
}

type DeliveryWithUrl = WebhookDeliveryRow & Pick<Selectable<Database["webhook_subscriptions"]>, "webhook_url">;

function deliveryRowToSummary(row: DeliveryWithUrl): DeliverySummary {
  const status = row.status as DeliveryStatus;
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    webhookUrl: row.webhook_url,
    status,
    attemptCount: row.attempt_count,
    nextAttemptAt: status === "pending" ? new Date(row.next_attempt_at) : null,
    lastResponseStatus: row.last_response_status,
    lastError: row.last_error,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    scenarioId: row.scenario_id,
  };
}

/**
 * The body of an attempt is, by construction, its delivery's body (or, for deliveries from
 * before domain events, the event's V2 envelope); it is kept on the attempt row only when it
 * is not (SAME_AS_PAYLOAD marks the usual case), which spares the writer a second copy of
 * every payload.
 */
const SAME_AS_PAYLOAD = "";

function attemptRowToAttempt(row: WebhookAttemptRow, payload: string): LoggedAttempt {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    subscriptionId: row.subscription_id,
    attemptNumber: row.attempt_number,
    url: row.url,
    requestHeaders: JSON.parse(row.request_headers) as Record<string, string>,
    requestBody: row.request_body === SAME_AS_PAYLOAD ? payload : row.request_body,
    responseStatus: row.response_status,
    responseHeaders: row.response_headers === null ? null : (JSON.parse(row.response_headers) as Record<string, string>),
    responseBody: row.response_body,
    durationMs: row.duration_ms,
    error: row.error,
    attemptedAt: new Date(row.attempted_at),
  };
}

function eventRowToEvent(row: EventRow, deliveries: DeliverySummary[]): LoggedEvent {
  return {
    id: row.id,
    orgId: row.org_id,
    eventType: row.event_type as DomainEventType,
    chatId: row.chat_id,
    payload: row.payload,
    payloadFormat: row.payload_format === "domain" ? "domain" : "v2-envelope",
    createdAt: new Date(row.created_at),
    scenarioId: row.scenario_id,
    deliveries,
  };
}

/** Unsealed signing secrets kept at most; past it the cache starts over. */
const MAX_CACHED_SECRETS = 1000;

/** Opens subscription secrets, each sealed text once. */
interface SecretCache {
  open(row: Pick<WebhookSubscriptionRow, "secret" | "sealed_secret">): string | null;
}

/**
 * Unsealing (AES-GCM) for every claimed delivery cost more than signing it. The cache is
 * keyed by the sealed text itself, never by the subscription: a new secret is sealed with a
 * fresh IV, so its sealed text differs and a rotated or replaced secret can never be served
 * from here; nothing has to be invalidated.
 */
function secretCache(secrets: SecretBox): SecretCache {
  const opened = new Map<string, string>();
  return {
    open(row) {
      if (row.sealed_secret === null) return openSubscriptionSecret(secrets, row);
      let secret = opened.get(row.sealed_secret);
      if (secret === undefined) {
        secret = openSubscriptionSecret(secrets, row)!;
        if (opened.size >= MAX_CACHED_SECRETS) opened.clear();
        opened.set(row.sealed_secret, secret);
      }
      return secret;
    },
  };
}

type ClaimArgs = {
  workerId: string;
  claimUntil: string;
  at: string;
  limit: number;
};

/**
 * 'pending' written into the claim's SQL: SQLite chooses the partial index
 * webhook_deliveries_chat_queue by a status's value, and with the value bound it prepares
 * the statement again at every execution; so it would with a bare bound LIMIT, which the
 * claim therefore takes as `? + 0` (measured alone: ~30 µs → ~3 µs per claim).
 */
const PENDING = sql.lit("pending");

/**
 * The claim: up to `limit` due deliveries in one statement, UPDATE … WHERE id IN (due rows
 * LIMIT n) RETURNING, atomic on both dialects. Fixed shape, so compiled once per database
 * (see compiled-once.ts).
 */
function claimStatement(dialect: MigrationDialect) {
  return compiledOnce((db, a: ClaimArgs) =>
    db
      .updateTable("webhook_deliveries")
      .set({ claimed_by: a.workerId, claimed_until: a.claimUntil, updated_at: a.at })
      .where((eb) => {
        const due = eb
          .selectFrom("webhook_deliveries as d")
          .select("d.id")
          .where("d.status", "=", PENDING)
          .where("d.next_attempt_at", "<=", a.at)
          .where((w) => w.or([w("d.claimed_until", "is", null), w("d.claimed_until", "<=", a.at)]))
          // A chat's events reach each subscription in commit order: only the oldest pending
          // delivery of a (subscription, chat) is claimable, so the next waits until it
          // succeeded or failed for good. One probe of webhook_deliveries_chat_queue each.
          .where((w) =>
            w.or([
              w("d.chat_id", "is", null),
              w.not(
                w.exists(
                  w
                    .selectFrom("webhook_deliveries as earlier")
                    .select("earlier.id")
                    .whereRef("earlier.subscription_id", "=", "d.subscription_id")
                    .whereRef("earlier.chat_id", "=", "d.chat_id")
                    .where("earlier.status", "=", PENDING)
                    .whereRef("earlier.id", "<", "d.id"),
                ),
              ),
            ]),
          )
          .orderBy("d.next_attempt_at")
          .orderBy("d.id")
          .limit(sql<number>`${a.limit} + 0`);
        // On Postgres `id IN (subquery)` plans as a hash join over the whole table, whose
        // finished rows only grow until the retention sweep; `= ANY(ARRAY(subquery))` looks
        // the few claimed ids up by primary key.
        return dialect === "postgres"
          ? eb("id", "=", eb.fn.any(sql<number[]>`array(${due.forUpdate().skipLocked()})`))
          : eb("id", "in", due);
      })
      // One statement claims and fetches: scalar subqueries in RETURNING (both dialects)
      // spare a second round trip per claim.
      .returning((eb) => [
        "id",
        "org_id",
        "event_id",
        "attempt_count",
        "next_attempt_at",
        // Deliveries from before domain events have no body: they send the event's V2 envelope.
        eb.fn
          .coalesce(
            "webhook_deliveries.event_type",
            eb.selectFrom("events as e").select("e.event_type").whereRef("e.id", "=", "webhook_deliveries.event_id"),
          )
          .as("event_type"),
        eb.fn
          .coalesce(
            "webhook_deliveries.body",
            eb.selectFrom("events as e").select("e.payload").whereRef("e.id", "=", "webhook_deliveries.event_id"),
          )
          .as("payload"),
        "subscription_id",
        eb
          .selectFrom("webhook_attempts as a")
          .select((c) => c.fn.countAll<number>().as("n"))
          .whereRef("a.delivery_id", "=", "webhook_deliveries.id")
          .as("attempts_before"),
      ]),
  );
}
const claimSqlite = claimStatement("sqlite");
const claimPostgres = claimStatement("postgres");

const selectClaimedSubscriptions = compiledOnce((db, a: { ids: number[] }) =>
  db
    .selectFrom("webhook_subscriptions")
    .select(["id", "uuid", "version", "webhook_url", "secret", "sealed_secret", "active"])
    .where(anyOf(db, "id", a.ids)),
);

/** Claims up to `limit` due deliveries (claimStatement), with their subscriptions. */
async function claimDue(
  db: Kysely<Database>,
  dialect: MigrationDialect,
  secrets: SecretCache,
  workerId: string,
  { now, claimUntil, limit }: ClaimRequest,
): Promise<ClaimedDelivery[]> {
  const { rows: claimed } = await (dialect === "postgres" ? claimPostgres : claimSqlite)(db, {
    workerId,
    claimUntil: stamp(claimUntil),
    at: stamp(now),
    limit,
  });
  if (claimed.length === 0) return [];
  // The subscriptions once per claim, not once per delivery: a claim is mostly one or two
  // subscriptions' deliveries. Read after the claim, so a pause or a new URL committed
  // before it is seen; one committed while an attempt runs is seen by the next claim.
  const subscriptionIds = [...new Set(claimed.map((row) => row.subscription_id))];
  const subscriptions = new Map((await selectClaimedSubscriptions(db, { ids: subscriptionIds })).rows.map((row) => [row.id, row]));
  // RETURNING promises no order; hand them out oldest due first.
  const rows = claimed.sort((a, b) =>
    a.next_attempt_at === b.next_attempt_at ? a.id - b.id : a.next_attempt_at < b.next_attempt_at ? -1 : 1,
  );
  return rows.map((row) => {
    const subscription = subscriptions.get(row.subscription_id);
    return {
      id: row.id,
      orgId: row.org_id,
      eventId: row.event_id,
      eventType: row.event_type!,
      payload: row.payload!,
      attemptCount: row.attempt_count,
      dueAt: new Date(row.next_attempt_at),
      attemptsBefore: Number(row.attempts_before ?? 0),
      subscription: {
        id: row.subscription_id,
        uuid: subscription?.uuid ?? "",
        version: subscription?.version ?? 2,
        url: subscription?.webhook_url ?? "",
        secret: subscription ? secrets.open(subscription) : null,
        // Deleted since the claim (its deliveries go with it): nothing to send.
        active: subscription?.active === 1,
      },
    };
  });
}

/**
 * Writes finished attempts (see DeliveryRepository.recordAndClaim); returns the ids whose
 * claim was lost. Only deliveries still claimed by `workerId` move on (one retaken by
 * another worker is that worker's now). Every attempt whose delivery still exists is logged;
 * one whose delivery was deleted with its subscription meanwhile has nothing left to log and
 * is dropped (rather than failing a foreign key and taking the whole batch down).
 *
 * Lock order (Postgres): the subscriptions' rows first, in key-share mode, then their
 * deliveries. Deleting a subscription locks its row for update, then its deliveries by
 * cascade; so a deletion racing this transaction waits for it or runs wholly before it,
 * never deadlocks with it. Key-share locks conflict neither with each other nor with the
 * counter updates at the end (taken in id order), so workers recording at once wait on one
 * another only there, as they would without this lock.
 */
async function recordAttempts(
  trx: Kysely<Database>,
  dialect: MigrationDialect,
  workerId: string,
  results: readonly AttemptResult[],
): Promise<number[]> {
  const bySubscription = groupBy(results, (result) => result.delivery.subscription.id);
  const subscriptionIds = [...bySubscription.keys()].sort((a, b) => a - b);
  if (dialect === "postgres") {
    // SQLite has one writer at a time: a deletion runs wholly before or after this.
    await lockSubscriptions(trx, { ids: subscriptionIds });
  }

  const held = new Set<number>();
  // Successes move in one statement per (status, note) pair; retries and failures one by one.
  const successes = groupBy(
    results.filter((result) => result.next.status === "succeeded"),
    (result) => JSON.stringify([result.attempt.responseStatus, result.lastError]),
  );
  for (const group of successes.values()) {
    const [first] = group;
    const ids = group.map((r) => r.delivery.id);
    const { rows } = await (dialect === "postgres" ? succeedPostgres : succeedSqlite)(trx, {
      // One parameter for the whole list (a JSON array on SQLite), so the statement is compiled once.
      ids: dialect === "postgres" ? ids : JSON.stringify(ids),
      workerId,
      responseStatus: first!.attempt.responseStatus,
      lastError: first!.lastError,
      updatedAt: stamp(latest(group)),
    });
    for (const row of rows) held.add(row.id);
  }
  for (const result of results) {
    const { next, attempt, delivery } = result;
    if (next.status === "succeeded") continue;
    const args = {
      id: delivery.id,
      workerId,
      attemptCount: delivery.attemptCount + 1,
      responseStatus: attempt.responseStatus,
      lastError: result.lastError,
      updatedAt: stamp(attempt.attemptedAt),
    };
    const moved =
      next.status === "pending"
        ? await moveToRetry(trx, { ...args, nextAttemptAt: stamp(next.nextAttemptAt) })
        : await moveToFailed(trx, args);
    if (Number(moved.numAffectedRows ?? 0) === 1) held.add(delivery.id);
  }

  // A lost claim's attempt still happened and is logged; a vanished delivery's is not.
  const unheld = results.map((r) => r.delivery.id).filter((id) => !held.has(id));
  const stillThere = new Set(held);
  if (unheld.length > 0) {
    const rows = await trx.selectFrom("webhook_deliveries").select("id").where("id", "in", unheld).execute();
    rows.forEach((row) => stillThere.add(row.id));
  }
  const logged = results.filter((r) => stillThere.has(r.delivery.id));
  const rows = logged.map(attemptRow);
  if (dialect === "sqlite") {
    // SQLite runs in process: one compiled statement per row costs less than building and
    // compiling a statement of as many rows at every turn.
    for (const row of rows) await insertAttempt(trx, row);
  } else {
    // Postgres: one round trip for the batch.
    for (let offset = 0; offset < rows.length; offset += INSERT_BATCH) {
      await trx.insertInto("webhook_attempts").values(rows.slice(offset, offset + INSERT_BATCH)).execute();
    }
  }

  for (const subscriptionId of subscriptionIds) {
    const group = bySubscription.get(subscriptionId)!;
    const delivered = group.filter((r) => r.next.status === "succeeded");
    const deactivated = group.find((r) => r.deactivateSubscription);
    if (deactivated) {
      await trx
        .updateTable("webhook_subscriptions")
        .set((eb) => ({
          delivery_attempts: eb("delivery_attempts", "+", group.length),
          ...(delivered.length > 0 ? { last_delivered_at: stamp(latest(delivered)) } : {}),
          active: 0,
          updated_at: stamp(deactivated.attempt.attemptedAt),
        }))
        .where("id", "=", subscriptionId)
        .execute();
    } else if (delivered.length > 0) {
      await countDelivered(trx, { id: subscriptionId, attempts: group.length, lastDeliveredAt: stamp(latest(delivered)) });
    } else {
      await countAttempts(trx, { id: subscriptionId, attempts: group.length });
    }
  }
  return results.map((r) => r.delivery.id).filter((id) => !held.has(id));
}

function attemptRow({ delivery, attempt }: AttemptResult): AttemptRowArgs {
  return {
    delivery_id: delivery.id,
    event_id: delivery.eventId,
    subscription_id: delivery.subscription.id,
    attempt_number: delivery.attemptsBefore + 1,
    url: attempt.url,
    request_headers: JSON.stringify(attempt.requestHeaders),
    request_body: attempt.requestBody === delivery.payload ? SAME_AS_PAYLOAD : attempt.requestBody,
    response_status: attempt.responseStatus,
    response_headers: attempt.responseHeaders === null ? null : JSON.stringify(attempt.responseHeaders),
    response_body: attempt.responseBody,
    duration_ms: attempt.durationMs,
    error: attempt.error,
    attempted_at: stamp(attempt.attemptedAt),
  };
}

// What a turn records, compiled once per database (see compiled-once.ts): fixed shapes only.
const lockSubscriptions = compiledOnce((db, a: { ids: number[] }) =>
  db.selectFrom("webhook_subscriptions").select("id").where(anyOf(db, "id", a.ids)).orderBy("id").forKeyShare(),
);

type SucceedArgs = {
  /** The deliveries' ids: an array on Postgres, a JSON array on SQLite. */
  ids: number[] | string;
  workerId: string;
  responseStatus: number | null;
  lastError: string | null;
  updatedAt: string;
};

/** Successes with the same answer, in one statement; only deliveries still claimed by the worker move. */
function succeedStatement(dialect: MigrationDialect) {
  return compiledOnce((db, a: SucceedArgs) =>
    db
      .updateTable("webhook_deliveries")
      .set((eb) => ({
        status: "succeeded",
        attempt_count: eb("attempt_count", "+", 1),
        claimed_by: null,
        claimed_until: null,
        last_response_status: a.responseStatus,
        last_error: a.lastError,
        updated_at: a.updatedAt,
      }))
      .where(
        dialect === "postgres"
          ? sql<boolean>`"id" = any(${a.ids}::integer[])`
          : sql<boolean>`"id" in (select "value" from json_each(${a.ids}))`,
      )
      .where("claimed_by", "=", a.workerId)
      .returning("id"),
  );
}
const succeedSqlite = succeedStatement("sqlite");
const succeedPostgres = succeedStatement("postgres");

type MoveArgs = {
  id: number;
  workerId: string;
  attemptCount: number;
  responseStatus: number | null;
  lastError: string | null;
  updatedAt: string;
};
const moveToRetry = compiledOnce((db, a: MoveArgs & { nextAttemptAt: string }) =>
  db
    .updateTable("webhook_deliveries")
    .set({
      status: "pending",
      attempt_count: a.attemptCount,
      next_attempt_at: a.nextAttemptAt,
      claimed_by: null,
      claimed_until: null,
      last_response_status: a.responseStatus,
      last_error: a.lastError,
      updated_at: a.updatedAt,
    })
    .where("id", "=", a.id)
    .where("claimed_by", "=", a.workerId),
);
const moveToFailed = compiledOnce((db, a: MoveArgs) =>
  db
    .updateTable("webhook_deliveries")
    .set({
      status: "failed",
      attempt_count: a.attemptCount,
      claimed_by: null,
      claimed_until: null,
      last_response_status: a.responseStatus,
      last_error: a.lastError,
      updated_at: a.updatedAt,
    })
    .where("id", "=", a.id)
    .where("claimed_by", "=", a.workerId),
);

/** An attempt row as written: every column but the generated id. */
type AttemptRowArgs = Omit<Selectable<WebhookAttemptTable>, "id">;
const insertAttempt = compiledOnce((db, a: AttemptRowArgs) =>
  db.insertInto("webhook_attempts").values({
    delivery_id: a.delivery_id,
    event_id: a.event_id,
    subscription_id: a.subscription_id,
    attempt_number: a.attempt_number,
    url: a.url,
    request_headers: a.request_headers,
    request_body: a.request_body,
    response_status: a.response_status,
    response_headers: a.response_headers,
    response_body: a.response_body,
    duration_ms: a.duration_ms,
    error: a.error,
    attempted_at: a.attempted_at,
  }),
);

const countDelivered = compiledOnce((db, a: { id: number; attempts: number; lastDeliveredAt: string }) =>
  db
    .updateTable("webhook_subscriptions")
    .set((eb) => ({ delivery_attempts: eb("delivery_attempts", "+", a.attempts), last_delivered_at: a.lastDeliveredAt }))
    .where("id", "=", a.id),
);
const countAttempts = compiledOnce((db, a: { id: number; attempts: number }) =>
  db
    .updateTable("webhook_subscriptions")
    .set((eb) => ({ delivery_attempts: eb("delivery_attempts", "+", a.attempts) }))
    .where("id", "=", a.id),
);

/**
 * The outbox queue and the delivery log. Claims are a single UPDATE … WHERE id IN (due
 * rows LIMIT n) RETURNING, atomic on both dialects; on Postgres the inner select also
 * takes FOR UPDATE SKIP LOCKED so concurrent workers pass over each other's rows instead
 * of waiting. Write transactions start with a write, so on SQLite they take the write
 * lock first (waiting on busy_timeout) instead of failing to upgrade a read snapshot.
 */
export function deliveryRepository(db: Kysely<Database>, dialect: MigrationDialect, secretBox: SecretBox): DeliveryRepository {
  const secrets = secretCache(secretBox);
  async function deliveriesFor(eventIds: readonly string[]): Promise<Map<string, DeliverySummary[]>> {
    const byEvent = new Map<string, DeliverySummary[]>();
    if (eventIds.length === 0) return byEvent;
    const rows = await db
      .selectFrom("webhook_deliveries as d")
      .innerJoin("webhook_subscriptions as s", "s.id", "d.subscription_id")
      .selectAll("d")
      .select("s.webhook_url")
      .where("d.event_id", "in", [...eventIds])
      .orderBy("d.id")
      .execute();
    for (const row of rows) {
      const list = byEvent.get(row.event_id) ?? [];
      list.push(deliveryRowToSummary(row));
      byEvent.set(row.event_id, list);
    }
    return byEvent;
  }

  return {
    async recordAndClaim(workerId, results, claim) {
      if (results.length === 0) {
        return { lost: [], claimed: claim ? await claimDue(db, dialect, secrets, workerId, claim) : [] };
      }
      // One transaction for both halves: on SQLite one commit (one WAL append) per turn of
      // the worker instead of two, on Postgres one fsync.
      try {
        return await db.transaction().execute(async (trx) => {
          const lost = await recordAttempts(trx, dialect, workerId, results);
          return { lost, claimed: claim ? await claimDue(trx, dialect, secrets, workerId, claim) : [] };
        });
      } catch (batchError) {
        if (results.length === 1) throw batchError;
        // One record the batch could not take must not cost the others theirs (their claims
        // would lapse and every one be sent again): each on its own, the failing ones left
        // claimed, to be retried once their claims lapse.
        const lost: number[] = [];
        const unrecorded: number[] = [];
        for (const result of results) {
          try {
            lost.push(...(await db.transaction().execute((trx) => recordAttempts(trx, dialect, workerId, [result]))));
          } catch {
            unrecorded.push(result.delivery.id);
          }
        }
        if (unrecorded.length === results.length) throw batchError;
        return { lost, unrecorded, claimed: claim ? await claimDue(db, dialect, secrets, workerId, claim) : [] };
      }
    },

    async failWithoutAttempt(workerId, deliveryId, error, now) {
      await db
        .updateTable("webhook_deliveries")
        .set({ status: "failed", claimed_by: null, claimed_until: null, last_error: error, updated_at: stamp(now) })
        .where("id", "=", deliveryId)
        .where("claimed_by", "=", workerId)
        .execute();
    },

    async releaseClaims(workerId, now) {
      const result = await db
        .updateTable("webhook_deliveries")
        .set({ claimed_by: null, claimed_until: null, updated_at: stamp(now) })
        .where("claimed_by", "=", workerId)
        .where("status", "=", "pending")
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async nextDueAt() {
      const [unclaimed, claimed] = await Promise.all([
        db
          .selectFrom("webhook_deliveries")
          .select((eb) => eb.fn.min("next_attempt_at").as("at"))
          .where("status", "=", "pending")
          .where("claimed_until", "is", null)
          .executeTakeFirst(),
        db
          .selectFrom("webhook_deliveries")
          .select((eb) => eb.fn.min("claimed_until").as("at"))
          .where("status", "=", "pending")
          .where("claimed_until", "is not", null)
          .executeTakeFirst(),
      ]);
      const times = [unclaimed?.at, claimed?.at].filter((t): t is string => typeof t === "string");
      if (times.length === 0) return undefined;
      return new Date(times.sort()[0]!);
    },

    async purgeEventsBefore(cutoff) {
      let removed = 0;
      for (;;) {
        const result = await db
          .deleteFrom("events")
          .where("id", "in", (eb) =>
            eb
              .selectFrom("events as e")
              .select("e.id")
              .where("e.created_at", "<", stamp(cutoff))
              .where((w) =>
                w.not(
                  w.exists(
                    w
                      .selectFrom("webhook_deliveries as d")
                      .select("d.id")
                      .whereRef("d.event_id", "=", "e.id")
                      .where("d.status", "=", "pending"),
                  ),
                ),
              )
              .limit(PURGE_BATCH),
          )
          .executeTakeFirst();
        const count = Number(result.numDeletedRows);
        removed += count;
        if (count < PURGE_BATCH) return removed;
      }
    },

    async outboxStats(now) {
      // Both aggregates ride the (status, next_attempt_at) index.
      const row = await db
        .selectFrom("webhook_deliveries")
        .select((eb) => [
          eb.fn.countAll<number>().as("pending"),
          eb.fn.sum<number>(eb.case().when("next_attempt_at", "<=", stamp(now)).then(1).else(0).end()).as("due"),
          eb.fn.min("next_attempt_at").as("earliest"),
        ])
        .where("status", "=", "pending")
        .executeTakeFirstOrThrow();
      const earliest = typeof row.earliest === "string" ? new Date(row.earliest) : undefined;
      return {
        pending: Number(row.pending),
        due: Number(row.due ?? 0),
        oldestDueAt: earliest && earliest.getTime() <= now.getTime() ? earliest : undefined,
      };
    },

    async listEvents(orgId, query) {
      let filtered = db.selectFrom("events").where("org_id", "=", orgId);
      if (query.eventType !== undefined) filtered = filtered.where("event_type", "=", query.eventType);
      if (query.chatId !== undefined) filtered = filtered.where("chat_id", "=", query.chatId);
      if (query.since !== undefined) filtered = filtered.where("created_at", ">=", stamp(query.since));
      const window = pageWindow(query);
      const [count, rows] = await Promise.all([
        filtered.select((eb) => eb.fn.countAll<number>().as("total")).executeTakeFirstOrThrow(),
        window
          ? filtered
              .selectAll()
              .orderBy("created_at", "desc")
              .orderBy("id", "desc")
              .limit(window.limit)
              .offset(window.offset)
              .execute()
          : [],
      ]);
      const deliveries = await deliveriesFor(rows.map((r) => r.id));
      return {
        items: rows.map((row) => eventRowToEvent(row, deliveries.get(row.id) ?? [])),
        total: Number(count.total),
      };
    },

    async findEvent(orgId, eventId) {
      const row = await db
        .selectFrom("events")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("id", "=", eventId)
        .executeTakeFirst();
      if (!row) return undefined;
      const [deliveries, attempts, bodies] = await Promise.all([
        deliveriesFor([row.id]),
        // Through the event's deliveries: attempts carry no index by event (see the migration
        // 2026-12-02-1445-attempts-by-delivery).
        db
          .selectFrom("webhook_attempts")
          .selectAll()
          .where("delivery_id", "in", (eb) => eb.selectFrom("webhook_deliveries").select("id").where("event_id", "=", row.id))
          .orderBy("id")
          .execute(),
        db.selectFrom("webhook_deliveries").select(["id", "body"]).where("event_id", "=", row.id).execute(),
      ]);
      const bodyOf = new Map(bodies.map((d) => [d.id, d.body ?? row.payload]));
      return {
        ...eventRowToEvent(row, deliveries.get(row.id) ?? []),
        attempts: attempts.map((a) => attemptRowToAttempt(a, bodyOf.get(a.delivery_id) ?? row.payload)),
      };
    },

    async requeueEvent(orgId, eventId, targets, now) {
      if (targets.length === 0) return [];
      const subscriptionIds = targets.map((t) => t.subscriptionId);
      const at = stamp(now);
      return db.transaction().execute(async (trx) => {
        const event = await trx.selectFrom("events").select("chat_id").where("id", "=", eventId).executeTakeFirst();
        const chatId = event?.chat_id ?? null;
        // Finished deliveries start a new round; waiting ones become due now. In-flight ones stay as they are.
        const queued = await trx
          .updateTable("webhook_deliveries")
          .set({ status: "pending", attempt_count: 0, next_attempt_at: at, updated_at: at, chat_id: chatId })
          .where("org_id", "=", orgId)
          .where("event_id", "=", eventId)
          .where("subscription_id", "in", [...subscriptionIds])
          .where((w) =>
            w.or([w("status", "!=", "pending"), w("claimed_until", "is", null), w("claimed_until", "<=", at)]),
          )
          .returning(["id", "subscription_id"])
          .execute();
        const existing = await trx
          .selectFrom("webhook_deliveries")
          .select(["id", "subscription_id"])
          .where("event_id", "=", eventId)
          .where("subscription_id", "in", [...subscriptionIds])
          .execute();
        const outcomes: RequeueOutcome[] = [];
        for (const { subscriptionId, eventType, body } of targets) {
          const requeued = queued.find((r) => r.subscription_id === subscriptionId);
          const present = existing.find((r) => r.subscription_id === subscriptionId);
          if (requeued) {
            outcomes.push({ subscriptionId, deliveryId: requeued.id, result: "queued" });
          } else if (present) {
            outcomes.push({ subscriptionId, deliveryId: present.id, result: "already_pending" });
          } else {
            const inserted = await trx
              .insertInto("webhook_deliveries")
              .values({
                org_id: orgId,
                event_id: eventId,
                subscription_id: subscriptionId,
                event_type: eventType,
                body,
                chat_id: chatId,
                status: "pending",
                attempt_count: 0,
                next_attempt_at: at,
                claimed_until: null,
                claimed_by: null,
                last_response_status: null,
                last_error: null,
                created_at: at,
                updated_at: at,
              })
              .returning("id")
              .executeTakeFirstOrThrow();
            outcomes.push({ subscriptionId, deliveryId: inserted.id, result: "queued" });
          }
        }
        return outcomes;
      });
    },

    async requeueFailed(orgId, subscriptionId, since, now) {
      const at = stamp(now);
      const result = await db
        .updateTable("webhook_deliveries")
        .set((eb) => ({
          status: "pending",
          attempt_count: 0,
          next_attempt_at: at,
          updated_at: at,
          // Rows from before deliveries carried their chat get it now, so they queue in order too.
          chat_id: eb.selectFrom("events").select("events.chat_id").whereRef("events.id", "=", "webhook_deliveries.event_id"),
        }))
        .where("org_id", "=", orgId)
        .where("subscription_id", "=", subscriptionId)
        .where("status", "=", "failed")
        .where("event_id", "in", (eb) =>
          eb
            .selectFrom("events as e")
            .select("e.id")
            .where("e.org_id", "=", orgId)
            .where("e.created_at", ">=", stamp(since)),
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}
