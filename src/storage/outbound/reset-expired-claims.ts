import type { Kysely } from "kysely";
import { stamp } from "../mappers.ts";
import type { Database } from "../schema.ts";

/** Frees claims that lapsed: their worker crashed or hung, and the jobs become due for anyone. */
export async function resetExpiredClaims(db: Kysely<Database>, now: Date): Promise<number> {
  const result = await db
    .updateTable("outbound_jobs")
    .set({ claimed_by: null, claimed_until: null })
    .where("claimed_until", "<=", stamp(now))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Hands back a worker's claims (all, or the given jobs) without counting an attempt. */
export async function releaseClaims(db: Kysely<Database>, workerId: string, ids?: readonly number[]): Promise<number> {
  if (ids?.length === 0) return 0;
  let query = db.updateTable("outbound_jobs").set({ claimed_by: null, claimed_until: null }).where("claimed_by", "=", workerId);
  if (ids) query = query.where("id", "in", [...ids]);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
