import type { Kysely } from "kysely";
import type { JobFailure } from "../../outbound/ports.ts";
import { stamp } from "../mappers.ts";
import type { Database } from "../schema.ts";

/** Counts the failed attempt and makes each job due again at its new time, unclaimed. */
export async function failJobs(db: Kysely<Database>, workerId: string, failures: readonly JobFailure[]): Promise<number> {
  let moved = 0;
  for (const failure of failures) {
    const result = await db
      .updateTable("outbound_jobs")
      .set((eb) => ({
        attempts: eb("attempts", "+", 1),
        run_at: stamp(failure.runAt),
        last_error: failure.error.slice(0, 2000),
        claimed_by: null,
        claimed_until: null,
      }))
      .where("id", "=", failure.id)
      .where("claimed_by", "=", workerId)
      .executeTakeFirst();
    moved += Number(result.numUpdatedRows);
  }
  return moved;
}
