/**
 * How far apart one process's notifications of one topic start, at least. Every `pg_notify`
 * is a transaction of its own that Postgres commits (a WAL flush) under one lock shared by
 * the whole server, so notifying once per send made them a serial queue across every node
 * and a round trip per send. Paced, a busy node sends at most 1000 / NOTIFY_GAP_MS per
 * second and topic, and what they carry reaches other nodes at most this much later.
 */
export const NOTIFY_GAP_MS = 100;

export interface Pacer {
  /** Asks for one run of the work: at once when the last began NOTIFY_GAP_MS ago, else when it has; asks made meanwhile fold into that run. */
  request(): void;
  /** Runs what was asked for without waiting out the gap, and waits for the run in progress. */
  flush(): Promise<void>;
}

/**
 * Paces `run` (which must not reject): one run at a time, starts at least `gapMs` apart.
 * Even an ask after a quiet spell waits for a timer turn, so asks made in one turn of the
 * event loop fold into one run.
 */
export function pace(run: () => Promise<void>, gapMs = NOTIFY_GAP_MS): Pacer {
  let asked = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let lastStart = Number.NEGATIVE_INFINITY;

  function start(): void {
    timer = undefined;
    asked = false;
    lastStart = performance.now();
    running = run().finally(() => {
      running = undefined;
      schedule();
    });
  }

  function schedule(): void {
    if (!asked || timer || running) return;
    timer = setTimeout(start, Math.max(0, lastStart + gapMs - performance.now()));
  }

  return {
    request() {
      asked = true;
      schedule();
    },
    async flush() {
      for (;;) {
        clearTimeout(timer);
        timer = undefined;
        if (running) await running;
        else if (asked) start();
        else return;
      }
    },
  };
}
