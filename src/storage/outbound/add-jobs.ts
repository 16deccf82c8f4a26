import type { Insertable, Kysely } from "kysely";
import type { NewOutboundJob } from "../../core/ports.ts";
import { stamp } from "../mappers.ts";
import type { Database, OutboundJobTable } from "../schema.ts";
import { compiledOnce } from "../compiled-once.ts";

/** Tries a job gets before it is kept aside as failed (about 17 hours of backoff, see the worker). */
export const DEFAULT_MAX_ATTEMPTS = 25;

type JobInsert = Required<Omit<Insertable<OutboundJobTable>, "id">>;

function jobRow(job: NewOutboundJob, now: Date): JobInsert {
  return {
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
  };
}

// One job is what a send queues: that statement is compiled once (see compiled-once.ts).
const insertOneJob = compiledOnce((db, row: JobInsert) =>
  db
    .insertInto("outbound_jobs")
    .values({
      org_id: row.org_id,
      kind: row.kind,
      payload: row.payload,
      run_at: row.run_at,
      attempts: row.attempts,
      max_attempts: row.max_attempts,
      claimed_by: row.claimed_by,
      claimed_until: row.claimed_until,
      last_error: row.last_error,
      created_at: row.created_at,
    } satisfies Record<keyof JobInsert, unknown>)
    .returning("id"),
);

/** Inserts jobs (inside the caller's transaction when `db` is one); returns their ids in order. */
export async function addJobs(db: Kysely<Database>, jobs: readonly NewOutboundJob[], now: Date): Promise<number[]> {
  if (jobs.length === 0) return [];
  if (jobs.length === 1) return (await insertOneJob(db, jobRow(jobs[0]!, now))).rows.map((r) => r.id);
  const rows = await db
    .insertInto("outbound_jobs")
    .values(jobs.map((job) => jobRow(job, now)))
    .returning("id")
    .execute();
  return rows.map((r) => r.id).sort((a, b) => a - b);
}
