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
