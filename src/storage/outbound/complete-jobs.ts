import type { Kysely } from "kysely";
import type { Database } from "../schema.ts";

/** Deletes finished jobs; a job whose claim lapsed and was retaken belongs to its new holder and stays. */
export async function completeJobs(db: Kysely<Database>, workerId: string, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db
    .deleteFrom("outbound_jobs")
    .where("id", "in", [...ids])
    .where("claimed_by", "=", workerId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
