import type { Clock } from "../../src/core/ports.ts";

/** A clock that only moves when told to; timers fire as `advance` passes their due time. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
}

export function createManualClock(start = new Date("2026-01-15T10:00:00.000Z")): ManualClock {
  let now = start.getTime();
  let timers: { due: number; fn: () => void }[] = [];
  return {
    now: () => new Date(now),
    setTimer(delayMs, fn) {
      const timer = { due: now + Math.max(0, delayMs), fn };
      timers.push(timer);
      return () => {
        timers = timers.filter((t) => t !== timer);
      };
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.due <= now).sort((a, b) => a.due - b.due);
      timers = timers.filter((t) => t.due > now);
      for (const timer of due) timer.fn();
    },
  };
}
