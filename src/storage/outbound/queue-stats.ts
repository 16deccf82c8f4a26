import type { Kysely } from "kysely";
import type { OutboundQueueStats } from "../../outbound/ports.ts";
import { stamp } from "../mappers.ts";
import type { Database } from "../schema.ts";

/** Depth of the queue for /metrics: one aggregate over the table (finished jobs are deleted, so it stays small). */
export async function queueStats(db: Kysely<Database>, now: Date): Promise<OutboundQueueStats> {
  const at = stamp(now);
  const row = await db
    .selectFrom("outbound_jobs")
    .select((eb) => {
      const live = eb("attempts", "<", eb.ref("max_attempts"));
      return [
        eb.fn.sum<number>(eb.case().when(live).then(1).else(0).end()).as("pending"),
        eb.fn.sum<number>(eb.case().when(eb.and([live, eb("run_at", "<=", at)])).then(1).else(0).end()).as("due"),
        eb.fn.sum<number>(eb.case().when(live).then(0).else(1).end()).as("failed"),
        eb.fn.min(eb.case().when(eb.and([live, eb("run_at", "<=", at)])).then(eb.ref("run_at")).end()).as("oldest"),
      ];
    })
    .executeTakeFirstOrThrow();
  return {
    pending: Number(row.pending ?? 0),
    due: Number(row.due ?? 0),
    failed: Number(row.failed ?? 0),
    oldestDueAt: typeof row.oldest === "string" ? new Date(row.oldest) : undefined,
  };
}
