import { performance } from "node:perf_hooks";
import type { Dispatcher } from "undici";
import { DomainError } from "../core/errors.ts";
import { assertAllowedUrl } from "../net/safe-dispatcher.ts";
import type { SendFailure } from "./retry-schedule.ts";

/** Response bodies kept in the delivery log are cut to this many bytes. */
export const MAX_LOGGED_RESPONSE_BYTES = 4096;

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Aborts the attempt (worker shutdown). */
  signal?: AbortSignal;
}

export interface SendResult {
  status: number | null;
  headers: Record<string, string> | null;
  /** Response body, truncated to MAX_LOGGED_RESPONSE_BYTES. */
  body: string | null;
  failure: SendFailure | null;
  error: string | null;
  durationMs: number;
}

export type WebhookSender = (request: SendRequest) => Promise<SendResult>;

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

const ABANDONED: Pick<SendResult, "failure" | "error"> = { failure: "aborted", error: "attempt abandoned: worker shutting down" };

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string } } | undefined;
  return e?.code ?? e?.cause?.code;
}

/**
 * POSTs one attempt. Never throws: every failure is described in the result, because a
 * receiver failing is data, not an exception. Redirects are not followed. The timeout is
 * wall-clock time (a network matter), whatever clock drives the retry schedule.
 *
 * Straight through undici's `dispatch` with a handler of callbacks rather than `request()`:
 * the response body never becomes a stream and the attempt needs no AbortController of its
 * own, which halved the CPU time of an attempt (profiles of thousands a second, 32 at once).
 */
export function createHttpSender(options: {
  dispatcher: Dispatcher;
  timeoutMs: number;
  allowPrivate: boolean;
}): WebhookSender {
  const { dispatcher, timeoutMs, allowPrivate } = options;
  return function send(input) {
    const started = performance.now();
    let url: URL;
    try {
      url = assertAllowedUrl(input.url, allowPrivate);
    } catch (error) {
      const message = error instanceof DomainError ? error.message : String(error);
      return Promise.resolve({ ...NO_ANSWER, failure: "refused", error: message, durationMs: Math.round(performance.now() - started) });
    }
    if (input.signal?.aborted) return Promise.resolve({ ...NO_ANSWER, ...ABANDONED, durationMs: 0 });
    return new Promise<SendResult>((resolve) => {
      const attempt = new Attempt(input.signal ? live(input.signal) : undefined, timeoutMs, started, resolve);
      dispatcher.dispatch(
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: "POST",
          headers: input.headers,
          body: input.body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        attempt,
      );
    });
  };
}

const NO_ANSWER = { status: null, headers: null, body: null } as const;

/** The attempts in flight under one shutdown signal, and whether it fired. */
interface LiveAttempts {
  signal: AbortSignal;
  attempts: Set<Attempt>;
}

const liveBySignal = new WeakMap<AbortSignal, LiveAttempts>();

/**
 * One listener per shutdown signal (a worker passes the same one to all its attempts) that
 * cuts every attempt still in flight, instead of a listener added and removed per attempt.
 */
function live(signal: AbortSignal): LiveAttempts {
  let entry = liveBySignal.get(signal);
  if (!entry) {
    const created: LiveAttempts = { signal, attempts: new Set() };
    signal.addEventListener("abort", () => {
      for (const attempt of created.attempts) attempt.shutdown();
    }, { once: true });
    liveBySignal.set(signal, created);
    entry = created;
  }
  return entry;
}

/**
 * One attempt as undici's dispatch handler: it collects the answer and settles once. A
 * class rather than closures, because thousands of attempts a second each allocating a
 * dozen functions showed in profiles.
 */
class Attempt implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  /** Why the attempt was cut short by us (timeout, shutdown), applied once undici hands over its controller. */
  private cutShort: Error | undefined;
  private timedOut = false;
  private status: number | null = null;
  private headers: Record<string, string> | null = null;
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private settled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly live: LiveAttempts | undefined,
    private readonly timeoutMs: number,
    private readonly started: number,
    private readonly resolve: (result: SendResult) => void,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.cut(new Error("timeout"));
    }, timeoutMs);
    live?.attempts.add(this);
  }

  /** The worker is shutting down: abandon the attempt. */
  shutdown(): void {
    this.cut(new Error("shutdown"));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cutShort) controller.abort(this.cutShort);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = statusCode;
    this.headers = flattenHeaders(headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.kept >= MAX_LOGGED_RESPONSE_BYTES) return;
    const room = MAX_LOGGED_RESPONSE_BYTES - this.kept;
    this.chunks.push(chunk.byteLength > room ? chunk.subarray(0, room) : chunk);
    this.kept += Math.min(chunk.byteLength, room);
    if (this.kept >= MAX_LOGGED_RESPONSE_BYTES) {
      // The status already decided the outcome; the rest of a large body is not worth reading.
      this.answered(null);
      controller.abort(new Error("response body not needed"));
    }
  }

  onResponseEnd(): void {
    this.answered(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.settled) return;
    const failure = this.describe(error);
    if (this.status === null) this.finish({ ...NO_ANSWER, ...failure });
    // The status already arrived and decides the outcome; the broken body is only noted.
    else this.answered(`response body incomplete: ${failure.error}`);
  }

  private cut(reason: Error): void {
    if (this.cutShort) return;
    this.cutShort = reason;
    this.controller?.abort(reason);
  }

  private answered(error: string | null): void {
    const body = Buffer.concat(this.chunks, this.kept).toString("utf8");
    this.finish({ status: this.status, headers: this.headers, body, failure: null, error });
  }

  private finish(result: Omit<SendResult, "durationMs">): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.live?.attempts.delete(this);
    this.resolve({ ...result, durationMs: Math.round(performance.now() - this.started) });
  }

  private describe(error: unknown): Pick<SendResult, "failure" | "error"> {
    if (this.live?.signal.aborted) return ABANDONED;
    if (this.timedOut) return { failure: "timeout", error: `timed out after ${this.timeoutMs} ms` };
    const code = errorCode(error);
    if (code === "EPRIVATEADDRESS") return { failure: "refused", error: (error as Error).message };
    const message = (error as Error)?.message ?? String(error);
    return { failure: "connection", error: code && !message.includes(code) ? `${code}: ${message}` : message };
  }
}
