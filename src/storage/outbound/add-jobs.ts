import type { Kysely } from "kysely";
import type { NewOutboundJob } from "../../core/ports.ts";
import { stamp } from "../mappers.ts";
import type { Database } from "../schema.ts";

/** Tries a job gets before it is kept aside as failed (about 17 hours of backoff, see the worker). */
export const DEFAULT_MAX_ATTEMPTS = 25;

/** Inserts jobs (inside the caller's transaction when `db` is one); returns their ids in order. */
export async function addJobs(db: Kysely<Database>, jobs: readonly NewOutboundJob[], now: Date): Promise<number[]> {
  if (jobs.length === 0) return [];
  const rows = await db
    .insertInto("outbound_jobs")
    .values(
      jobs.map((job) => ({
        org_id: job.orgId,
        kind: job.kind,
        payload: JSON.stringify(job.payload),
        run_at: stamp(job.runAt),
        attempts: 0,
        max_attempts: job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        claimed_by: null,
        claimed_until: null,
        last_error: null,
        created_at: stamp(now),
      })),
    )
    .returning("id")
    .execute();
  return rows.map((r) => r.id).sort((a, b) => a - b);
}
