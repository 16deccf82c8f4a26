import { DomainError } from "../errors.ts";
import type { CoreDeps } from "../deps.ts";
import type { Attachment } from "../model.ts";
import type { StagedFile } from "../ports.ts";

/** A file as it arrives, already streamed to staging: uploaded in a multipart body, or downloaded from a URL. */
export interface IncomingFile {
  filename: string;
  staged: StagedFile;
  /** What the sender claimed; only trusted for plain-text types the bytes cannot prove. */
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

/** Types iMessage/SMS carry and the quickstart lists ("and more"), detected from the bytes. */
const ALLOWED_BINARY_TYPES = new Set([
  "image/jpeg",
  "image/png",
  "image/gif",
  "image/webp",
  "image/heic",
  "image/heif",
  "image/tiff",
  "image/bmp",
  "video/mp4",
  "video/quicktime",
  "video/x-m4v",
  "video/3gpp",
  "video/webm",
  "audio/mpeg",
  "audio/mp4",
  "audio/x-m4a",
  "audio/aac",
  "audio/wav",
  "audio/x-wav",
  "audio/amr",
  "audio/ogg",
  "application/pdf",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  "application/msword",
  "application/x-cfb",
  "application/zip",
  "application/rtf",
]);

/** Types with no magic bytes; accepted when declared (or implied by the extension) and the bytes are text. */
const TEXT_TYPES: Record<string, string> = {
  txt: "text/plain",
  csv: "text/csv",
  vcf: "text/vcard",
  ics: "text/calendar",
  json: "application/json",
  md: "text/markdown",
};

export const ALLOWED_TYPES_SUMMARY =
  "images (JPG, PNG, GIF, HEIC, WEBP), video (MP4, MOV), audio (MP3, M4A, AAC, WAV), documents (PDF, DOCX, XLSX, PPTX, RTF), ZIP and plain text (TXT, CSV, VCF, ICS)";

function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf(".");
  return dot === -1 ? "" : filename.slice(dot + 1).toLowerCase();
}

function safeFilename(name: string, fallbackExtension: string | undefined): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  const cleaned = base.replace(/[^\w.\- ]+/g, "_").trim().slice(0, 200);
  if (cleaned !== "" && cleaned !== "." && cleaned !== "..") return cleaned;
  return fallbackExtension ? `attachment.${fallbackExtension}` : "attachment";
}

/** Checks size and type of one staged file; refuses the whole request on the first bad one. */
export function prepareAttachment(
  deps: Pick<CoreDeps, "ids" | "limits">,
  file: IncomingFile,
  source: string,
): PreparedAttachment {
  const { staged } = file;
  if (staged.size > deps.limits.maxAttachmentBytes) {
    throw new DomainError(
      "attachment_too_large",
      `${source} is ${staged.size} bytes; the limit is ${deps.limits.maxAttachmentBytes} bytes`,
    );
  }
  if (staged.size === 0) {
    throw new DomainError("attachment_type_not_allowed", `${source} is empty`);
  }
  const detected = staged.detected;
  let mimeType: string | undefined;
  let extension: string | undefined;
  if (detected) {
    if (ALLOWED_BINARY_TYPES.has(detected.mime)) {
      mimeType = detected.mime === "application/x-cfb" ? "application/msword" : detected.mime;
      extension = detected.ext;
    }
  } else if (staged.utf8Text) {
    const declared = file.declaredType?.split(";")[0]?.trim().toLowerCase();
    const byExtension = TEXT_TYPES[extensionOf(file.filename)];
    if (declared && Object.values(TEXT_TYPES).includes(declared)) mimeType = declared;
    else if (byExtension) mimeType = byExtension;
    else if (!declared || declared === "application/octet-stream") mimeType = "text/plain";
    extension = mimeType ? Object.entries(TEXT_TYPES).find(([, t]) => t === mimeType)?.[0] : undefined;
  }
  if (!mimeType) {
    throw new DomainError(
      "attachment_type_not_allowed",
      `${source} has type ${detected?.mime ?? file.declaredType ?? "unknown"}, which is not supported; supported: ${ALLOWED_TYPES_SUMMARY}`,
    );
  }
  return {
    id: deps.ids.uuid(),
    filename: safeFilename(file.filename, extension),
    mimeType,
    size: staged.size,
    stagedKey: staged.key,
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
