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

const abandoned: Pick<SendResult, "failure" | "error"> = { failure: "aborted", error: "attempt abandoned: worker shutting down" };

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
    const elapsed = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = assertAllowedUrl(input.url, allowPrivate);
    } catch (error) {
      const message = error instanceof DomainError ? error.message : String(error);
      return Promise.resolve({ status: null, headers: null, body: null, failure: "refused", error: message, durationMs: elapsed() });
    }
    if (input.signal?.aborted) {
      return Promise.resolve({ status: null, headers: null, body: null, ...abandoned, durationMs: 0 });
    }

    return new Promise<SendResult>((resolve) => {
      let controller: Dispatcher.DispatchController | undefined;
      /** Why the attempt was cut short by us (timeout, shutdown), applied once undici hands over its controller. */
      let cutShort: Error | undefined;
      let timedOut = false;
      let status: number | null = null;
      let headers: Record<string, string> | null = null;
      const chunks: Buffer[] = [];
      let kept = 0;
      let settled = false;

      const cut = (reason: Error) => {
        if (cutShort) return;
        cutShort = reason;
        controller?.abort(reason);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        cut(new Error("timeout"));
      }, timeoutMs);
      const onShutdown = () => cut(new Error("shutdown"));
      input.signal?.addEventListener("abort", onShutdown, { once: true });

      const finish = (result: Omit<SendResult, "durationMs">) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        input.signal?.removeEventListener("abort", onShutdown);
        resolve({ ...result, durationMs: elapsed() });
      };
      const answered = (error: string | null) =>
        finish({ status, headers, body: Buffer.concat(chunks, kept).toString("utf8"), failure: null, error });
      const describe = (error: unknown): Pick<SendResult, "failure" | "error"> => {
        if (input.signal?.aborted) return abandoned;
        if (timedOut) return { failure: "timeout", error: `timed out after ${timeoutMs} ms` };
        const code = errorCode(error);
        if (code === "EPRIVATEADDRESS") return { failure: "refused", error: (error as Error).message };
        const message = (error as Error)?.message ?? String(error);
        return { failure: "connection", error: code && !message.includes(code) ? `${code}: ${message}` : message };
      };

      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(requestController) {
          controller = requestController;
          if (cutShort) requestController.abort(cutShort);
        },
        onResponseStart(_controller, statusCode, responseHeaders) {
          status = statusCode;
          headers = flattenHeaders(responseHeaders);
        },
        onResponseData(responseController, chunk) {
          if (kept >= MAX_LOGGED_RESPONSE_BYTES) return;
          const room = MAX_LOGGED_RESPONSE_BYTES - kept;
          chunks.push(chunk.byteLength > room ? chunk.subarray(0, room) : chunk);
          kept += Math.min(chunk.byteLength, room);
          if (kept >= MAX_LOGGED_RESPONSE_BYTES) {
            // The status already decided the outcome; the rest of a large body is not worth reading.
            answered(null);
            responseController.abort(new Error("response body not needed"));
          }
        },
        onResponseEnd() {
          answered(null);
        },
        onResponseError(_controller, error) {
          if (settled) return;
          const failure = describe(error);
          if (status === null) {
            finish({ status: null, headers: null, body: null, ...failure });
          } else {
            // The status already arrived and decides the outcome; the broken body is only noted.
            answered(`response body incomplete: ${failure.error}`);
          }
        },
      };
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
        handler,
      );
    });
  };
}
