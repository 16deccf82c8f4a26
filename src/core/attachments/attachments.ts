import { supportedMimeTypes } from "file-type";
import mime from "mime";
import { DomainError } from "../errors.ts";
import type { CoreDeps } from "../deps.ts";
import type { Attachment } from "../model.ts";
import type { StagedFile } from "../ports.ts";

/** A file as it arrives, already streamed to staging: uploaded in a multipart body, or downloaded from a URL. */
export interface IncomingFile {
  filename: string;
  staged: StagedFile;
  /** What the sender claimed; only trusted for types the bytes cannot prove (see detectType). */
  declaredType: string | undefined;
}

/** A file that passed every check and is ready to be stored with its message. */
export interface PreparedAttachment {
  id: string;
  filename: string;
  mimeType: string;
  size: number;
  stagedKey: string;
}

/**
 * Files (uploads and URLs together) one message may carry. Each is up to
 * OPENLINQ_MAX_ATTACHMENT_BYTES; more than this many is a 422.
 */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

/** A bare `type/subtype` token (RFC 9110): what may be reported and served as a Content-Type. */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;
/** Containers whose sniffed type says less than a name or a claim can (an .xls is an OLE file). */
const GENERIC_CONTAINERS = new Set(["application/x-cfb", "application/zip"]);
const OCTET_STREAM = "application/octet-stream";

function safeFilename(name: string, fallbackExtension: string | undefined): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  const cleaned = base.replace(/[^\w.\- ]+/g, "_").trim().slice(0, 200);
  if (cleaned !== "" && cleaned !== "." && cleaned !== "..") return cleaned;
  return fallbackExtension ? `attachment.${fallbackExtension}` : "attachment";
}

/**
 * The type of a file, from its bytes first. Any type is accepted (only size limits a file);
 * this decides what `mime_type` reports. A claim (the upload's or the server's Content-Type)
 * or the name's extension is used only where the bytes cannot tell, and never when it names
 * a type the bytes would have shown (a "PNG" that does not sniff as one is not a PNG).
 */
function detectType(file: IncomingFile): { mimeType: string; extension: string | undefined } {
  const declared = file.declaredType?.split(";")[0]?.trim().toLowerCase();
  const byName = mime.getType(file.filename) ?? undefined;
  // Sniffed and checked for text while it was staged.
  const detected = file.staged.detected;
  if (detected && !GENERIC_CONTAINERS.has(detected.mime)) return { mimeType: detected.mime, extension: detected.ext };
  const text = !detected && file.staged.utf8Text;
  const unprovable = (type: string | undefined): type is string =>
    !!type &&
    MEDIA_TYPE.test(type) &&
    type !== OCTET_STREAM &&
    !supportedMimeTypes.has(type) &&
    (text || !type.startsWith("text/"));
  // Inside a container the name is the better witness (an .xls is an OLE file); elsewhere the claim.
  const told = detected ? [byName, declared].find(unprovable) : [declared, byName].find(unprovable);
  const mimeType = told ?? detected?.mime ?? (text ? "text/plain" : OCTET_STREAM);
  return { mimeType, extension: mime.getExtension(mimeType) ?? detected?.ext };
}

/** Checks the size of one staged file and types it; refuses the whole request on the first bad one. */
export function prepareAttachment(
  deps: Pick<CoreDeps, "ids" | "limits">,
  file: IncomingFile,
  source: string,
): PreparedAttachment {
  const { size } = file.staged;
  if (size > deps.limits.maxAttachmentBytes) {
    throw new DomainError(
      "attachment_too_large",
      `${source} is ${size} bytes; the limit is ${deps.limits.maxAttachmentBytes} bytes`,
    );
  }
  if (size === 0) {
    throw new DomainError("attachment_type_not_allowed", `${source} is empty`);
  }
  const { mimeType, extension } = detectType(file);
  return {
    id: deps.ids.uuid(),
    filename: safeFilename(file.filename, extension),
    mimeType,
    size,
    stagedKey: file.staged.key,
  };
}

/**
 * Checks uploads, then downloads and checks every URL: all before anything is written.
 * Downloads run side by side (bounded server-wide by the fetcher); when any fails, the
 * files the others staged are dropped and the first failure, in URL order, is thrown.
 * Uploads stay staged for their request to drop.
 */
export async function prepareAttachments(
  deps: Pick<CoreDeps, "ids" | "limits" | "fetchAttachment" | "files">,
  uploads: readonly IncomingFile[],
  urls: readonly string[],
): Promise<PreparedAttachment[]> {
  const prepared: PreparedAttachment[] = [];
  for (const [index, upload] of uploads.entries()) {
    prepared.push(prepareAttachment(deps, upload, `attachment ${index + 1} ("${upload.filename}")`));
  }
  const downloads = await Promise.allSettled(urls.map((url) => deps.fetchAttachment(url)));
  const staged = downloads.flatMap((d) => (d.status === "fulfilled" ? [d.value.staged.key] : []));
  try {
    for (const [index, download] of downloads.entries()) {
      if (download.status === "rejected") throw download.reason;
      const fetched = download.value;
      prepared.push(
        prepareAttachment(
          deps,
          { filename: fetched.filename, staged: fetched.staged, declaredType: fetched.contentType },
          `attachment URL ${urls[index]}`,
        ),
      );
    }
  } catch (error) {
    await Promise.all(staged.map((key) => deps.files.discard(key).catch(() => undefined)));
    throw error;
  }
  return prepared;
}

/** Writes the files; returns the rows to insert once the message id is known. */
export async function storeAttachmentFiles(
  deps: Pick<CoreDeps, "files">,
  prepared: readonly PreparedAttachment[],
): Promise<(messageId: number, orgId: number, now: Date) => Attachment[]> {
  for (const file of prepared) await deps.files.adopt(file.stagedKey, file.id);
  return (messageId, orgId, now) =>
    prepared.map((file) => ({
      id: file.id,
      orgId,
      messageId,
      filename: file.filename,
      mimeType: file.mimeType,
      fileSize: file.size,
      storageKey: file.id,
      createdAt: now,
    }));
}

export async function removeAttachmentFiles(
  deps: Pick<CoreDeps, "files">,
  prepared: readonly PreparedAttachment[],
): Promise<void> {
  await Promise.all(prepared.map((file) => deps.files.remove(file.id).catch(() => undefined)));
}
