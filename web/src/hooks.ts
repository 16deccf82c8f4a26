import { useEffect, useRef } from "preact/hooks";
import { onActivity, type Activity } from "./live.ts";

/**
 * Calls `refresh` after activities that `matters` accepts (and after every reconnect),
 * coalescing bursts: a send that emits three events costs one reload, not three.
 */
export function useActivityRefresh(matters: (activity: Activity) => boolean, refresh: () => void, delayMs = 120): void {
  const latest = useRef({ matters, refresh });
  latest.current = { matters, refresh };
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = onActivity((activity) => {
      if (activity.kind !== "resync" && !latest.current.matters(activity)) return;
      clearTimeout(timer);
      timer = setTimeout(() => latest.current.refresh(), delayMs);
    });
    return () => {
      clearTimeout(timer);
      off();
    };
  }, []);
}

/** Resolves to the latest value only: an older request finishing late is dropped. */
export function useLatestRequest() {
  const counter = useRef(0);
  return <T>(promise: Promise<T>, apply: (value: T) => void, fail?: (error: unknown) => void) => {
    const ticket = ++counter.current;
    promise.then(
      (value) => ticket === counter.current && apply(value),
      (error: unknown) => ticket === counter.current && fail?.(error),
    );
  };
}

/**
 * Looks again when a pending webhook delivery falls due. Attempts may run in another
 * process (`openlinq worker`), whose progress no activity of this server reports; the
 * server's due times say when to look. Backs off while nothing changes, at most 10 s.
 */
export function useDueRefresh(deliveries: { status: string; next_attempt_at: string | null }[], refresh: () => void): void {
  const quietRounds = useRef(0);
  useEffect(() => {
    const pending = deliveries.filter((d) => d.status === "pending");
    if (pending.length === 0) {
      quietRounds.current = 0;
      return;
    }
    const now = Date.now();
    const soonest = Math.min(...pending.map((d) => (d.next_attempt_at ? Date.parse(d.next_attempt_at) : now)));
    const backoff = Math.min(10_000, 300 * 2 ** quietRounds.current);
    quietRounds.current += 1;
    const timer = setTimeout(refresh, Math.min(10_000, Math.max(0, soonest - now) + backoff));
    return () => clearTimeout(timer);
  }, [deliveries]);
}
