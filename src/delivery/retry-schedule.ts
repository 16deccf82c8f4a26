/**
 * What happens after an attempt: success, a retry later, or a final failure.
 *
 * Retried: 5xx, 408, 429, timeouts and connection errors — the receiver may recover.
 * Final: other 4xx (the request itself is refused), 3xx (redirects are not followed),
 * refused URLs, and 410 Gone, which also deactivates the subscription.
 * The schedule lists the delays between attempts, so it allows `schedule.length` retries
 * after the first attempt.
 */

export type SendFailure = "timeout" | "connection" | "refused" | "aborted";

export interface AttemptOutcomeInput {
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  failure: SendFailure | null;
  /** Value of the Retry-After response header, if any. */
  retryAfter: string | null;
}

export type Verdict =
  | { kind: "succeeded" }
  | { kind: "retry"; delayMs: number }
  | { kind: "failed"; reason: string; deactivate: boolean };

export interface RetryPolicy {
  /** Delays between attempts, in ms. */
  schedule: readonly number[];
  /** Spread of each delay: 0.2 means ±20 %, so workers retrying together drift apart. */
  jitter: number;
  /** Source of randomness in [0, 1); tests pin it. */
  random: () => number;
}

/** A receiver asking for more than this is waited for only this long. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Retry-After as a delay in ms: either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Unparseable values are ignored.
 */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now.getTime()), MAX_RETRY_AFTER_MS);
}

/** The scheduled delay before retry number `retry` (1-based), with jitter applied. */
export function retryDelay(policy: RetryPolicy, retry: number): number {
  const base = policy.schedule[retry - 1];
  if (base === undefined) throw new RangeError(`retry ${retry} is beyond a schedule of ${policy.schedule.length}`);
  const spread = base * policy.jitter * (2 * policy.random() - 1);
  return Math.max(0, Math.round(base + spread));
}

/**
 * Decides what follows attempt number `attemptsMade` (1-based, within the current round).
 * Retry-After (on 429 and 503) lengthens the scheduled delay, never shortens it.
 */
export function judgeAttempt(policy: RetryPolicy, attemptsMade: number, outcome: AttemptOutcomeInput, now: Date): Verdict {
  const { status, failure } = outcome;
  if (status !== null && status >= 200 && status < 300) return { kind: "succeeded" };
  if (status === 410) return { kind: "failed", reason: "410 Gone: subscription deactivated", deactivate: true };

  let retryable: boolean;
  let reason: string;
  if (status !== null) {
    retryable = isRetryableStatus(status);
    reason =
      status >= 300 && status < 400
        ? `HTTP ${status}: redirects are not followed`
        : `HTTP ${status}${retryable ? "" : ": not retried"}`;
  } else {
    retryable = failure === "timeout" || failure === "connection";
    reason = failure === "refused" ? "URL refused" : `no response (${failure ?? "unknown"})`;
  }
  if (!retryable) return { kind: "failed", reason, deactivate: false };
  if (attemptsMade > policy.schedule.length) {
    return { kind: "failed", reason: `${reason}; gave up after ${attemptsMade} attempts`, deactivate: false };
  }
  let delayMs = retryDelay(policy, attemptsMade);
  if (status === 429 || status === 503) {
    const asked = parseRetryAfter(outcome.retryAfter, now);
    if (asked !== undefined) delayMs = Math.max(delayMs, asked);
  }
  return { kind: "retry", delayMs };
}
