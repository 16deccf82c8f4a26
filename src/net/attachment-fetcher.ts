import pLimit from "p-limit";
import { interceptors, request, type Dispatcher } from "undici";
import { DomainError } from "../core/errors.ts";
import type { FileStore, StagedFile } from "../core/ports.ts";
import { assertAllowedUrl } from "./safe-dispatcher.ts";

export const ATTACHMENT_DOWNLOAD_TIMEOUT_MS = 30_000;

/** A name as sent when its percent-escapes do not decode (`%E0%A4%A`): a bad name is no reason to fail. */
function decodeName(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The name a Content-Disposition gives: `filename*` (the exact name, RFC 8187) wins over `filename` (an ASCII fallback), as RFC 6266 says. */
function filenameFrom(url: URL, disposition: string | undefined): string {
  const exact = disposition && /filename\*\s*=\s*[\w-]*'[^']*'([^;\s]+)/i.exec(disposition);
  if (exact?.[1]) return decodeName(exact[1]);
  const match = disposition && /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  if (match?.[1]) return decodeName(match[1]);
  const last = url.pathname.split("/").filter(Boolean).pop();
  return last ? decodeName(last) : "attachment";
}

/**
 * Downloads one attachment URL with a 30 s budget and a size cap, streaming it into the
 * file store's staging area: an oversized file is cut off at the cap, and no download is
 * ever whole in memory. At most `concurrency` downloads run at once in the whole process;
 * the others wait their turn (their 30 s start when they do). Every failure is an
 * attachment_download_failed (or too_large) naming the URL.
 */
export function createAttachmentFetcher(options: {
  dispatcher: Dispatcher;
  files: FileStore;
  maxBytes: number;
  allowPrivate: boolean;
  concurrency: number;
  timeoutMs?: number;
}) {
  const timeoutMs = options.timeoutMs ?? ATTACHMENT_DOWNLOAD_TIMEOUT_MS;
  // CDNs redirect; webhook delivery deliberately does not follow redirects, so only this client does.
  const dispatcher = options.dispatcher.compose(interceptors.redirect({ maxRedirections: 5 }));
  const limit = pLimit(options.concurrency);

  async function fetchOne(url: string, parsed: URL) {
    const signal = AbortSignal.timeout(timeoutMs);
    const failed = (error: unknown) => {
      const reason = signal.aborted ? `timed out after ${timeoutMs / 1000} s` : (error as Error).message;
      return new DomainError("attachment_download_failed", `Could not download attachment ${url}: ${reason}`, { url });
    };
    let response: Dispatcher.ResponseData<unknown>;
    try {
      response = await request(parsed, {
        dispatcher,
        method: "GET",
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (error) {
      throw failed(error);
    }
    // Aborting the body (over the cap) makes undici emit an AbortError on it; without a
    // listener that error would be uncaught and take the process down. Errors that matter
    // still reach the pipeline.
    response.body.on("error", () => undefined);
    if (response.statusCode < 200 || response.statusCode >= 300) {
      await response.body.dump().catch(() => undefined);
      throw new DomainError(
        "attachment_download_failed",
        `Could not download attachment ${url}: the server answered HTTP ${response.statusCode}`,
        { url },
      );
    }
    const declaredLength = Number(response.headers["content-length"] ?? NaN);
    if (Number.isFinite(declaredLength) && declaredLength > options.maxBytes) {
      response.body.destroy();
      throw new DomainError(
        "attachment_too_large",
        `Attachment ${url} is ${declaredLength} bytes; the limit is ${options.maxBytes} bytes`,
        { url },
      );
    }
    let staged: StagedFile;
    try {
      staged = await options.files.stage(response.body, { maxBytes: options.maxBytes, what: `Attachment ${url}` });
    } catch (error) {
      response.body.destroy();
      if (error instanceof DomainError) throw new DomainError(error.code, error.message, { ...error.details, url });
      throw failed(error);
    }
    const contentType = response.headers["content-type"];
    const disposition = response.headers["content-disposition"];
    return {
      staged,
      contentType: typeof contentType === "string" ? contentType : undefined,
      filename: filenameFrom(parsed, typeof disposition === "string" ? disposition : undefined),
    };
  }

  return async function fetchAttachment(url: string) {
    const parsed = assertAllowedUrl(url, options.allowPrivate);
    return limit(() => fetchOne(url, parsed));
  };
}
