import { DomainError } from "../core/errors.ts";
import type { Clock } from "../core/ports.ts";

/** The furthest one advance may move the clock: ten years. */
export const MAX_ADVANCE_MS = 10 * 365 * 24 * 3600 * 1000;

/**
 * A clock that only moves when told (OPENLINQ_CLOCK=virtual, POST /openlinq/v1/clock/advance).
 * Timers fire in due order (ties: the order they were set), each run to completion before
 * the next: a callback that returns a promise is awaited. Between timers the settle hooks
 * run, so work a timer started (simulator actions, webhook deliveries now due) finishes
 * before time moves on. That makes a run repeat exactly, given the same seed and requests.
 */
export interface AdvanceResult {
  now: Date;
  /** Timers fired on the way. */
  fired: number;
}

export interface VirtualClock extends Clock {
  readonly mode: "virtual";
  advanceBy(ms: number): Promise<AdvanceResult>;
  advanceTo(target: Date): Promise<AdvanceResult>;
  /** Timers waiting to fire. */
  pendingTimers(): number;
  /** Work to finish before each step in time, e.g. the simulator's queue or deliveries due now. */
  addSettleHook(hook: () => Promise<void>): void;
}

interface Timer {
  due: number;
  seq: number;
  fn: () => unknown;
}

/** A runaway loop (a timer that keeps setting zero-delay timers) stops here instead of hanging. */
const MAX_TIMERS_PER_ADVANCE = 1_000_000;

const isPromise = (value: unknown): value is Promise<unknown> =>
  typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";

export function createVirtualClock(
  start: Date,
  options: { onError?: (error: unknown) => void } = {},
): VirtualClock {
  let now = start.getTime();
  let seq = 0;
  const timers: Timer[] = [];
  const settleHooks: (() => Promise<void>)[] = [];
  let running: Promise<unknown> = Promise.resolve();

  const report = (error: unknown) => options.onError?.(error);
  const settle = async () => {
    for (const hook of settleHooks) {
      try {
        await hook();
      } catch (error) {
        report(error);
      }
    }
  };

  /** Index of the earliest timer due at or before `limit`, or -1. */
  const nextDue = (limit: number): number => {
    let best = -1;
    for (let i = 0; i < timers.length; i++) {
      const t = timers[i]!;
      if (t.due > limit) continue;
      const b = best === -1 ? undefined : timers[best]!;
      if (!b || t.due < b.due || (t.due === b.due && t.seq < b.seq)) best = i;
    }
    return best;
  };

  async function run(target: number): Promise<AdvanceResult> {
    let fired = 0;
    await settle();
    for (;;) {
      const index = nextDue(target);
      if (index === -1) break;
      const [timer] = timers.splice(index, 1);
      now = Math.max(now, timer!.due);
      fired += 1;
      if (fired > MAX_TIMERS_PER_ADVANCE) throw new Error(`more than ${MAX_TIMERS_PER_ADVANCE} timers in one advance; stopped`);
      try {
        const result = timer!.fn();
        if (isPromise(result)) await result;
      } catch (error) {
        report(error);
      }
      await settle();
    }
    now = Math.max(now, target);
    await settle();
    return { now: new Date(now), fired };
  }

  // Advances never overlap: two requests at once run one after the other.
  const exclusive = (target: () => number): Promise<AdvanceResult> => {
    const next = running.then(() => run(target()));
    running = next.catch(() => undefined);
    return next;
  };

  return {
    mode: "virtual",
    now: () => new Date(now),
    setTimer(delayMs, fn) {
      const timer: Timer = { due: now + Math.max(0, delayMs), seq: seq++, fn };
      timers.push(timer);
      return () => {
        const index = timers.indexOf(timer);
        if (index !== -1) timers.splice(index, 1);
      };
    },
    advanceBy: (ms) => exclusive(() => now + ms),
    // Checked when the advance runs, against the time it starts from: time only moves forward.
    advanceTo: (target) =>
      exclusive(() => {
        const at = target.getTime();
        if (at < now) {
          throw new DomainError(
            "validation_failed",
            `to (${target.toISOString()}) is before the clock's time ${new Date(now).toISOString()}; time only moves forward`,
            { field: "to" },
          );
        }
        if (at - now > MAX_ADVANCE_MS) {
          throw new DomainError("validation_failed", "to is more than ten years ahead", { field: "to" });
        }
        return at;
      }),
    pendingTimers: () => timers.length,
    addSettleHook(hook) {
      settleHooks.push(hook);
    },
  };
}
