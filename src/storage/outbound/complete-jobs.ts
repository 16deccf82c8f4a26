import type { Kysely } from "kysely";
import { compiledOnce } from "../compiled-once.ts";
import type { Database } from "../schema.ts";

// One job (every send completes its own): compiled once (see compiled-once.ts).
const completeOne = compiledOnce((db, a: { id: number; workerId: string }) =>
  db.deleteFrom("outbound_jobs").where("id", "=", a.id).where("claimed_by", "=", a.workerId),
);

/** Deletes finished jobs; a job whose claim lapsed and was retaken belongs to its new holder and stays. */
export async function completeJobs(db: Kysely<Database>, workerId: string, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  if (ids.length === 1) return Number((await completeOne(db, { id: ids[0]!, workerId })).numAffectedRows);
  const result = await db
    .deleteFrom("outbound_jobs")
    .where("id", "in", [...ids])
    .where("claimed_by", "=", workerId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
