import type { Clock } from "../../core/ports.ts";

/**
 * The simulator's timetable: actions due at given times, run one at a time in due order
 * (ties in the order they were planned). One clock timer is armed for the earliest action,
 * so the order holds on the system clock too, where separate timers could fire out of order.
 * Every action also goes through one queue with the simulator's other work, so nothing
 * overlaps and `idle()` knows when all of it is done.
 */
export interface AgendaItem {
  dueAt: number;
  orgId: number;
  label: string;
  run: () => Promise<void>;
}

export interface Agenda {
  /** Runs `task` after everything queued before it; never rejects. */
  enqueue(label: string, task: () => Promise<void>): Promise<void>;
  schedule(item: AgendaItem): void;
  /** Drops planned actions of an organization (its sandbox was reset). */
  forget(orgId: number): void;
  /** Resolves once the queue is empty (planned actions not yet due do not count). */
  idle(): Promise<void>;
  planned(): number;
  stop(): Promise<void>;
}

export function createAgenda(clock: Clock, onError: (label: string, error: unknown) => void): Agenda {
  const items: (AgendaItem & { seq: number })[] = [];
  let seq = 0;
  let tail: Promise<void> = Promise.resolve();
  let armed: { at: number; cancel: () => void } | undefined;
  let stopped = false;

  const enqueue = (label: string, task: () => Promise<void>): Promise<void> => {
    const next = tail.then(async () => {
      if (stopped) return;
      try {
        await task();
      } catch (error) {
        onError(label, error);
      }
    });
    tail = next;
    return next;
  };

  async function runDue(): Promise<void> {
    while (!stopped && items.length > 0 && items[0]!.dueAt <= clock.now().getTime()) {
      const item = items.shift()!;
      try {
        await item.run();
      } catch (error) {
        onError(item.label, error);
      }
    }
    arm();
  }

  function arm(): void {
    const first = items[0];
    if (stopped || !first) {
      armed?.cancel();
      armed = undefined;
      return;
    }
    if (armed && armed.at === first.dueAt) return;
    armed?.cancel();
    const at = first.dueAt;
    const cancel = clock.setTimer(at - clock.now().getTime(), () => {
      if (armed?.at === at) armed = undefined;
      // Returned so a virtual clock can wait for the actions before moving on.
      return enqueue("agenda", runDue);
    });
    armed = { at, cancel };
  }

  return {
    enqueue,
    schedule(item) {
      if (stopped) return;
      const entry = { ...item, seq: seq++ };
      let index = items.length;
      while (index > 0 && items[index - 1]!.dueAt > entry.dueAt) index -= 1;
      items.splice(index, 0, entry);
      arm();
    },
    forget(orgId) {
      for (let i = items.length - 1; i >= 0; i--) if (items[i]!.orgId === orgId) items.splice(i, 1);
      arm();
    },
    async idle() {
      let seen: Promise<void>;
      do {
        seen = tail;
        await seen;
      } while (seen !== tail);
    },
    planned: () => items.length,
    async stop() {
      stopped = true;
      armed?.cancel();
      armed = undefined;
      items.length = 0;
      await tail;
    },
  };
}
