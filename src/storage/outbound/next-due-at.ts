import type { Kysely } from "kysely";
import type { Database } from "../schema.ts";

/** Earliest run_at of an unclaimed job that will still be tried, or claimed_until of a claimed one. */
export async function nextDueAt(db: Kysely<Database>): Promise<Date | undefined> {
  const [unclaimed, claimed] = await Promise.all([
    db
      .selectFrom("outbound_jobs")
      .select((eb) => eb.fn.min("run_at").as("at"))
      .where("claimed_until", "is", null)
      .where((w) => w("attempts", "<", w.ref("max_attempts")))
      .executeTakeFirst(),
    db
      .selectFrom("outbound_jobs")
      .select((eb) => eb.fn.min("claimed_until").as("at"))
      .where("claimed_until", "is not", null)
      .executeTakeFirst(),
  ]);
  const times = [unclaimed?.at, claimed?.at].filter((t): t is string => typeof t === "string");
  return times.length === 0 ? undefined : new Date(times.sort()[0]!);
}
