import { sql, type Kysely } from "kysely";
import type { ClaimWindow, OutboundJob } from "../../outbound/ports.ts";
import { anyOf, compiledPerVariant } from "../compiled-once.ts";
import { stamp } from "../mappers.ts";
import type { MigrationDialect } from "../migrations/index.ts";
import type { Database } from "../schema.ts";
import { inDueOrder, outboundJobRowToJob } from "./job-row.ts";

// A type, not an interface: compiledPerVariant takes a record of arguments.
type ClaimArgs = { workerId: string; at: string; claimUntil: string; ids: readonly number[] };

/**
 * The claim, compiled once per shape (see compiled-once.ts): per dialect, and either the
 * first `limit` due jobs (a worker's turn; the LIMIT a literal, as SQLite prepares a
 * statement with a bound LIMIT again at every execution) or the given jobs among the due
 * ones (`ids`, one list value whatever its length: a request running what it just committed).
 */
const claimDue = compiledPerVariant((db, a: ClaimArgs, variant: `${MigrationDialect} ${"ids" | number}`) => {
  const [dialect, narrowing] = variant.split(" ") as [MigrationDialect, string];
  return db
    .updateTable("outbound_jobs")
    .set({ claimed_by: a.workerId, claimed_until: a.claimUntil })
    .where((eb) => {
      let due = eb
        .selectFrom("outbound_jobs")
        .select("id")
        .where("run_at", "<=", a.at)
        .where("claimed_until", "is", null)
        .where((w) => w("attempts", "<", w.ref("max_attempts")))
        .orderBy("run_at")
        .orderBy("id");
      due = narrowing === "ids" ? due.where(anyOf(db, "id", a.ids)) : due.limit(sql.lit(Number(narrowing)));
      return dialect === "postgres"
        ? eb("id", "=", eb.fn.any(sql<number[]>`array(${due.forUpdate().skipLocked()})`))
        : eb("id", "in", due);
    })
    .returningAll();
});

/**
 * Claims up to `limit` due, unclaimed jobs in one statement: UPDATE … WHERE id IN (due rows
 * LIMIT n) RETURNING, atomic on both dialects; on Postgres the inner select takes FOR UPDATE
 * SKIP LOCKED so concurrent workers pass over each other's rows instead of waiting.
 * `onlyIds` narrows it to given jobs (a request running the work it just committed).
 */
export async function getDueJobs(
  db: Kysely<Database>,
  dialect: MigrationDialect,
  workerId: string,
  { now, claimUntil, limit, onlyIds }: ClaimWindow & { limit: number; onlyIds?: readonly number[] },
): Promise<OutboundJob[]> {
  if (limit <= 0 || onlyIds?.length === 0) return [];
  const { rows } = await claimDue(db, `${dialect} ${onlyIds ? "ids" : Math.trunc(limit)}`, {
    workerId,
    at: stamp(now),
    claimUntil: stamp(claimUntil),
    ids: onlyIds ?? [],
  });
  return inDueOrder(rows).map(outboundJobRowToJob);
}
