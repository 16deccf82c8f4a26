import { sql, type Kysely } from "kysely";
import type { ClaimWindow, OutboundJob } from "../../outbound/ports.ts";
import { compiledOnce } from "../compiled-once.ts";
import { stamp } from "../mappers.ts";
import type { MigrationDialect } from "../migrations/index.ts";
import type { Database } from "../schema.ts";
import { inDueOrder, outboundJobRowToJob } from "./job-row.ts";

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
  if (onlyIds?.length === 1) return claimJob(db, dialect, workerId, onlyIds[0]!, { now, claimUntil });
  const at = stamp(now);
  const rows = await db
    .updateTable("outbound_jobs")
    .set({ claimed_by: workerId, claimed_until: stamp(claimUntil) })
    .where((eb) => {
      let due = eb
        .selectFrom("outbound_jobs")
        .select("id")
        .where("run_at", "<=", at)
        .where("claimed_until", "is", null)
        .where((w) => w("attempts", "<", w.ref("max_attempts")))
        .orderBy("run_at")
        .orderBy("id")
        // A literal (an integer of ours): SQLite prepares a statement with a bound LIMIT
        // again at every execution, as it plans with the value.
        .limit(sql.lit(Math.trunc(limit)));
      if (onlyIds) due = due.where("id", "in", [...onlyIds]);
      return dialect === "postgres"
        ? eb("id", "=", eb.fn.any(sql<number[]>`array(${due.forUpdate().skipLocked()})`))
        : eb("id", "in", due);
    })
    .returningAll()
    .execute();
  return inDueOrder(rows).map(outboundJobRowToJob);
}

// A type, not an interface: compiledOnce takes a record of arguments.
type ClaimArgs = { id: number; workerId: string; at: string; claimUntil: string };

// One job by id (the job a request committed and runs at once, at every send): the same
// claim as above narrowed to one row, compiled once (see compiled-once.ts).
const claimOneSqlite = compiledOnce((db, a: ClaimArgs) =>
  db
    .updateTable("outbound_jobs")
    .set({ claimed_by: a.workerId, claimed_until: a.claimUntil })
    .where("id", "=", a.id)
    .where("run_at", "<=", a.at)
    .where("claimed_until", "is", null)
    .where((w) => w("attempts", "<", w.ref("max_attempts")))
    .returningAll(),
);
const claimOnePostgres = compiledOnce((db, a: ClaimArgs) =>
  db
    .updateTable("outbound_jobs")
    .set({ claimed_by: a.workerId, claimed_until: a.claimUntil })
    .where((eb) => {
      const due = eb
        .selectFrom("outbound_jobs")
        .select("id")
        .where("id", "=", a.id)
        .where("run_at", "<=", a.at)
        .where("claimed_until", "is", null)
        .where((w) => w("attempts", "<", w.ref("max_attempts")))
        .forUpdate()
        .skipLocked();
      return eb("id", "=", eb.fn.any(sql<number[]>`array(${due})`));
    })
    .returningAll(),
);

async function claimJob(
  db: Kysely<Database>,
  dialect: MigrationDialect,
  workerId: string,
  id: number,
  { now, claimUntil }: ClaimWindow,
): Promise<OutboundJob[]> {
  const claim = dialect === "postgres" ? claimOnePostgres : claimOneSqlite;
  const { rows } = await claim(db, { id, workerId, at: stamp(now), claimUntil: stamp(claimUntil) });
  return rows.map(outboundJobRowToJob);
}
