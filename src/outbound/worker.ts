import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Clock } from "../core/ports.ts";
import { createLocalQueue } from "./local-queue.ts";
import type { OutboundJob, OutboundQueue } from "./ports.ts";

/**
 * Performs one job. Throwing reschedules it (see `backoffMs`), unless `isSettled` says the
 * error means there is nothing left to do. `loaded`: what the request that queued the job
 * handed to `runNow` for it (only there; a job run from the queue gets none).
 */
export type JobHandler = (job: OutboundJob, loaded?: object) => Promise<void>;

export interface OutboundWorkerOptions {
  queue: OutboundQueue;
  clock: Clock;
  /** Handlers by job kind; the composition root gathers core's and the transport's. */
  handlers: ReadonlyMap<string, JobHandler>;
  /** How long a claim holds; a job of a crashed worker is retaken once this passes. Longer than any one job may take. */
  claimTtlMs: number;
  /** How often to look for jobs other processes added and claims that lapsed, in wall-clock time. */
  pollIntervalMs: number;
  /**
   * Whether this worker looks for due work on its own (polling, a timer for the next due
   * job). Without, it runs only what it is handed (`runNow`) or told (`runDue`): an API node
   * that leaves the queue to `openlinq worker` processes. Default true.
   */
  background?: boolean;
  /** Jobs claimed per statement. */
  batchSize?: number;
  logger: Pick<Logger, "debug" | "warn" | "error">;
  /** Errors that mean the job has nothing left to act on (its message was deleted): completed, not retried. */
  isSettled?: (error: unknown) => boolean;
  /** Delay before try `attempt + 1` after `attempt` failures. */
  backoffMs?: (attempt: number) => number;
  id?: string;
}

export interface OutboundWorker {
  /** Written into claims, so a claim names its holder. */
  readonly id: string;
  /** Starts polling and begins on what is due (lapsed claims freed first); returns at once. */
  start(): Promise<void>;
  /** Jobs may be due now or later (another part of this process added some). */
  wake(): void;
  /**
   * This process committed jobs that nobody runs at once (the simulated carrier's
   * schedule), the earliest due at `earliestRunAt`: arms the timer for it without asking
   * the queue. Jobs a request runs itself (`runNow`) need no call.
   */
  jobsAdded(earliestRunAt: Date): void;
  /**
   * Runs every job due at `clock.now()`, including jobs that fall due on the way, one at a
   * time; resolves once none is left. A virtual or fake clock calls it after moving time.
   */
  runDue(): Promise<{ jobs: number }>;
  /**
   * Runs the given jobs now if they are due and nobody holds them (a request performs the
   * send it just committed and answers with the outcome); others are left to the queue.
   * `loaded`: by job id, what the caller holds for a job, passed to its handler.
   */
  runNow(ids: readonly number[], loaded?: ReadonlyMap<number, object>): Promise<void>;
  /**
   * Whether it performs jobs: started and not closed where it runs the queue in the
   * background, not closed where it only performs the sends its requests commit.
   */
  running(): boolean;
  /** Stops; hands back the claims it holds. */
  close(): Promise<void>;
}

/** 1 s, 2 s, 4 s, … up to an hour between tries. */
export function defaultBackoffMs(attempt: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempt - 1), 3_600_000);
}

/**
 * The outbound worker only wires the queue's pieces: a local queue claiming due jobs ahead
 * (local-queue.ts), the handlers that perform them, and the storage operations that complete
 * or reschedule them (src/storage/outbound/). Jobs run one at a time, in due order: the
 * simulated carrier's steps must happen in the order they are due, exactly as under the
 * virtual clock. Every wait (the next due job, a retry) goes through the Clock; only the poll
 * for other processes' work runs on wall-clock time.
 *
 * Crash safety comes from the queue, not from this loop: a job is deleted only after its
 * handler returned, so a crash repeats at most the job that was running (handlers are
 * idempotent for that reason); claims of a dead worker lapse after `claimTtlMs`.
 */
export function createOutboundWorker(options: OutboundWorkerOptions): OutboundWorker {
  const { queue, clock, handlers, logger } = options;
  const id = options.id ?? `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}/outbound`;
  const backoff = options.backoffMs ?? defaultBackoffMs;
  const background = options.background ?? true;
  const local = createLocalQueue({
    queue,
    workerId: id,
    clock,
    batchSize: options.batchSize ?? 20,
    claimTtlMs: options.claimTtlMs,
    // A job is short (a transaction or a carrier call); half the claim covers it with room.
    minClaimLeftMs: Math.floor(options.claimTtlMs / 2),
  });

  let closed = false;
  let started = false;
  let chain: Promise<unknown> = Promise.resolve();
  let wakeQueued = false;
  /** A drain is running: it arms the timer itself when done (armNext). */
  let draining = false;
  let timer: { at: number; cancel: () => void } | undefined;
  let cancelPoll: (() => void) | undefined;

  /** Everything the worker does runs here, one piece at a time. */
  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = chain.then(work);
    chain = next.catch(() => undefined);
    return next;
  }

  async function perform(job: OutboundJob, loaded?: object): Promise<void> {
    try {
      const handler = handlers.get(job.kind);
      if (!handler) throw new Error(`no handler for outbound job kind "${job.kind}"`);
      await handler(job, loaded);
      await queue.completeJobs(id, [job.id]);
    } catch (error) {
      if (options.isSettled?.(error)) {
        logger.debug({ jobId: job.id, kind: job.kind, reason: (error as Error).message }, "outbound job skipped: nothing left to act on");
        await queue.completeJobs(id, [job.id]);
        return;
      }
      const attempt = job.attempts + 1;
      const runAt = new Date(clock.now().getTime() + backoff(attempt));
      const final = attempt >= job.maxAttempts;
      logger[final ? "error" : "warn"](
        { err: error, jobId: job.id, kind: job.kind, attempt, ...(final ? {} : { retryAt: runAt }) },
        final ? "outbound job failed for good" : "outbound job failed; retrying",
      );
      await queue.failJobs(id, [{ id: job.id, error: error instanceof Error ? error.message : String(error), runAt }]);
      if (!final) arm(runAt);
    }
  }

  async function drain(): Promise<number> {
    let count = 0;
    draining = true;
    try {
      await queue.resetExpiredClaims(clock.now());
      for (;;) {
        if (closed) break;
        const job = await local.next();
        if (!job) break;
        await perform(job);
        count += 1;
      }
      await armNext();
    } catch (error) {
      // The database failed us: claims taken lapse on their own, the next poll tries again.
      if (!closed) logger.error({ err: error }, "outbound worker: queue unavailable; trying again at the next poll");
    } finally {
      draining = false;
    }
    return count;
  }

  /** After a drain: the next due job or lapsing claim, whoever added it. */
  async function armNext(): Promise<void> {
    if (!background) return;
    const due = await queue.nextDueAt();
    if (due) wakeAt(due);
  }

  /** A moment known to have work (a retry, jobs this process added); nothing to ask the queue. */
  function arm(at: Date): void {
    if (background) wakeAt(at);
  }

  function wakeAt(due: Date): void {
    const at = due.getTime();
    if (closed || (timer && timer.at <= at)) return;
    timer?.cancel();
    const cancel = clock.setTimer(Math.max(0, at - clock.now().getTime()), () => {
      if (timer?.at === at) timer = undefined;
      // Returned, so a virtual clock waits for the jobs before it moves on.
      return runDue();
    });
    timer = { at, cancel };
  }

  function runDue(): Promise<{ jobs: number }> {
    return exclusive(async () => ({ jobs: closed ? 0 : await drain() }));
  }

  return {
    id,
    async start() {
      if (!background) return;
      started = true;
      const poll = setInterval(() => this.wake(), options.pollIntervalMs);
      poll.unref();
      cancelPoll = () => clearInterval(poll);
      // Work left by a previous run starts now, without holding up the start.
      this.wake();
    },
    wake() {
      if (wakeQueued || closed || !background) return;
      wakeQueued = true;
      void exclusive(async () => {
        wakeQueued = false;
        if (!closed) await drain();
      });
    },
    jobsAdded(earliestRunAt) {
      if (!draining) arm(earliestRunAt);
    },
    runDue,
    running: () => !closed && (started || !background),
    runNow(ids, loaded) {
      return exclusive(async () => {
        if (closed || ids.length === 0) return;
        try {
          const now = clock.now();
          const jobs = await queue.claimJobs(id, ids, { now, claimUntil: new Date(now.getTime() + options.claimTtlMs) });
          // No armNext here: what these jobs leave for later arms the timer as it is
          // committed (jobsAdded) or rescheduled (perform), which spares two queries a send.
          // Lapsed claims of other workers wait for the poll.
          for (const job of jobs) await perform(job, loaded?.get(job.id));
        } catch (error) {
          logger.error({ err: error }, "outbound worker: could not run new jobs now; the queue keeps them");
        }
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      timer?.cancel();
      cancelPoll?.();
      await chain;
      try {
        await local.release();
        await queue.releaseClaims(id);
      } catch (error) {
        logger.error({ err: error }, "outbound worker: handing back claims failed; they lapse on their own");
      }
    },
  };
}
