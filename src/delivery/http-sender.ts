import { performance } from "node:perf_hooks";
import { request, type Dispatcher } from "undici";
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

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string } } | undefined;
  return e?.code ?? e?.cause?.code;
}

/**
 * POSTs one attempt. Never throws: every failure is described in the result, because a
 * receiver failing is data, not an exception. Redirects are not followed. The timeout is
 * wall-clock time (a network matter), whatever clock drives the retry schedule.
 */
export function createHttpSender(options: {
  dispatcher: Dispatcher;
  timeoutMs: number;
  allowPrivate: boolean;
}): WebhookSender {
  const { dispatcher, timeoutMs, allowPrivate } = options;
  return async function send(input) {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = assertAllowedUrl(input.url, allowPrivate);
    } catch (error) {
      const message = error instanceof DomainError ? error.message : String(error);
      return { status: null, headers: null, body: null, failure: "refused", error: message, durationMs: elapsed() };
    }

    // One controller and one timer per attempt: AbortSignal.timeout plus AbortSignal.any
    // took about twice the CPU in profiles of thousands of attempts a second.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onShutdown = () => controller.abort();
    input.signal?.addEventListener("abort", onShutdown, { once: true });
    const signal = controller.signal;
    const describe = (error: unknown): Pick<SendResult, "failure" | "error"> => {
      if (input.signal?.aborted) return { failure: "aborted", error: "attempt abandoned: worker shutting down" };
      if (timedOut) return { failure: "timeout", error: `timed out after ${timeoutMs} ms` };
      const code = errorCode(error);
      if (code === "EPRIVATEADDRESS") {
        return { failure: "refused", error: (error as Error).message };
      }
      const message = (error as Error)?.message ?? String(error);
      return { failure: "connection", error: code && !message.includes(code) ? `${code}: ${message}` : message };
    };
    try {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, {
          dispatcher,
          method: "POST",
          headers: input.headers,
          body: input.body,
          signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
      } catch (error) {
        return { status: null, headers: null, body: null, ...describe(error), durationMs: elapsed() };
      }

      const headers = flattenHeaders(response.headers);
      const chunks: Buffer[] = [];
      let kept = 0;
      let readError: Pick<SendResult, "failure" | "error"> | null = null;
      try {
        for await (const chunk of response.body) {
          const buffer = chunk as Buffer;
          if (kept < MAX_LOGGED_RESPONSE_BYTES) {
            chunks.push(buffer.subarray(0, MAX_LOGGED_RESPONSE_BYTES - kept));
            kept += Math.min(buffer.byteLength, MAX_LOGGED_RESPONSE_BYTES - kept);
          }
          if (kept >= MAX_LOGGED_RESPONSE_BYTES) {
            // The status already decided the outcome; the rest of a large body is not worth reading.
            response.body.destroy();
            break;
          }
        }
      } catch (error) {
        // The status already arrived and decides the outcome; the broken body is only noted.
        readError = describe(error);
      }
      return {
        status: response.statusCode,
        headers,
        body: Buffer.concat(chunks).toString("utf8"),
        failure: null,
        error: readError ? `response body incomplete: ${readError.error}` : null,
        durationMs: elapsed(),
      };
    } finally {
      clearTimeout(timer);
      input.signal?.removeEventListener("abort", onShutdown);
    }
  };
}
