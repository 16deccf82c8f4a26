import type { Clock } from "../core/ports.ts";
import type { OutboundJob, OutboundQueue } from "./ports.ts";

/**
 * Jobs claimed ahead in batches, handed out one at a time: one claim statement serves
 * `batchSize` jobs. A job whose claim lapsed while it waited here may already belong to
 * another worker, so it is dropped instead of run (the queue makes it due again).
 */
export interface LocalQueue {
  /** The next job to run, claiming a batch when none is waiting; undefined when nothing is due. */
  next(): Promise<OutboundJob | undefined>;
  /** Hands back the claims of jobs fetched and not taken (shutdown). */
  release(): Promise<void>;
  /** Jobs waiting here. */
  size(): number;
}

export interface LocalQueueOptions {
  queue: OutboundQueue;
  workerId: string;
  clock: Clock;
  batchSize: number;
  claimTtlMs: number;
  /** A waiting job is handed out only while at least this much of its claim is left. */
  minClaimLeftMs: number;
}

export function createLocalQueue(options: LocalQueueOptions): LocalQueue {
  const { queue, workerId, clock } = options;
  const waiting: OutboundJob[] = [];

  async function fetch(): Promise<void> {
    const now = clock.now();
    const claimed = await queue.getDueJobs(workerId, {
      now,
      claimUntil: new Date(now.getTime() + options.claimTtlMs),
      limit: Math.max(1, options.batchSize),
    });
    waiting.push(...claimed);
  }

  return {
    async next() {
      for (;;) {
        if (waiting.length === 0) await fetch();
        const job = waiting.shift();
        if (!job) return undefined;
        if (job.claimedUntil.getTime() - clock.now().getTime() >= options.minClaimLeftMs) return job;
      }
    },
    async release() {
      const ids = waiting.splice(0).map((j) => j.id);
      await queue.releaseClaims(workerId, ids);
    },
    size: () => waiting.length,
  };
}
