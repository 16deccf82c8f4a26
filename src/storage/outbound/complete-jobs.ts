import type { Kysely } from "kysely";
import { anyOf, compiledOnce } from "../compiled-once.ts";
import type { Database } from "../schema.ts";

// Every send completes its own job: compiled once, the ids one list value (see compiled-once.ts).
const complete = compiledOnce((db, a: { ids: readonly number[]; workerId: string }) =>
  db.deleteFrom("outbound_jobs").where(anyOf(db, "id", a.ids)).where("claimed_by", "=", a.workerId),
);

/** Deletes finished jobs; a job whose claim lapsed and was retaken belongs to its new holder and stays. */
export async function completeJobs(db: Kysely<Database>, workerId: string, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  return Number((await complete(db, { ids, workerId })).numAffectedRows);
}
