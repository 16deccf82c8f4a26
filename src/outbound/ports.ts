/**
 * What the outbound worker needs from storage: a queue of due jobs, one operation per file in
 * src/storage/outbound/ (the same code on SQLite and Postgres).
 *
 * A job's life:
 *   due (run_at ≤ now, unclaimed) ──claim──▶ claimed until `claimedUntil`
 *   claimed ──completeJobs──▶ deleted
 *   claimed ──failJobs──▶ due again at its new run_at, attempts + 1 (given up at max_attempts: kept, never claimed)
 *   claimed, holder died ──claim expires, resetExpiredClaims──▶ due
 * Core adds jobs inside the transaction of the change that needs them (see
 * OutboundJobRepository in src/core/ports.ts), so accepted work is never lost.
 */

export interface OutboundJob {
  id: number;
  orgId: number;
  kind: string;
  payload: Record<string, unknown>;
  runAt: Date;
  /** Failed attempts so far. */
  attempts: number;
  maxAttempts: number;
  /** When this worker's claim lapses; completing or failing after that may find the job retaken. */
  claimedUntil: Date;
}

export interface ClaimWindow {
  now: Date;
  claimUntil: Date;
}

export interface JobFailure {
  id: number;
  error: string;
  /** When to try again. */
  runAt: Date;
}

/** What /metrics shows of the queue, across every process on the database. */
export interface OutboundQueueStats {
  /** Jobs still to run (due or later, claimed or not); not those given up on. */
  pending: number;
  /** Of those, the ones due now: waiting for a worker, or running. */
  due: number;
  /** Jobs given up on after their last try (kept for inspection, never claimed again). */
  failed: number;
  /** When the longest-waiting due job fell due; undefined when none is due. */
  oldestDueAt: Date | undefined;
}

export interface OutboundQueue {
  /**
   * Claims up to `limit` due, unclaimed jobs for `workerId`, oldest due first (ties: the order
   * they were added). Concurrent workers never get the same job (Postgres: FOR UPDATE SKIP
   * LOCKED; SQLite: one writer at a time).
   */
  getDueJobs(workerId: string, window: ClaimWindow & { limit: number }): Promise<OutboundJob[]>;
  /** Claims the given jobs if they are due and unclaimed (work a request runs itself); returns those it got, in due order. */
  claimJobs(workerId: string, ids: readonly number[], window: ClaimWindow): Promise<OutboundJob[]>;
  /** Deletes finished jobs still claimed by `workerId`; returns how many. */
  completeJobs(workerId: string, ids: readonly number[]): Promise<number>;
  /** Reschedules failed jobs still claimed by `workerId` and counts the attempt; returns how many. */
  failJobs(workerId: string, failures: readonly JobFailure[]): Promise<number>;
  /** Frees claims that lapsed (their holder crashed or hung); returns how many. */
  resetExpiredClaims(now: Date): Promise<number>;
  /** Hands back claims of `workerId` (graceful shutdown, jobs fetched ahead and not run); all of them without `ids`. */
  releaseClaims(workerId: string, ids?: readonly number[]): Promise<number>;
  /** Earliest moment a job becomes due or a claim lapses; undefined when the queue is empty. */
  nextDueAt(): Promise<Date | undefined>;
  /** Depth of the queue at `now`. */
  stats(now: Date): Promise<OutboundQueueStats>;
}
