import { fileTypeFromBuffer } from "file-type";
import { DomainError } from "../errors.ts";
import type { CoreDeps } from "../deps.ts";
import type { Attachment } from "../model.ts";

/** A file as it arrives: uploaded in a multipart body, or downloaded from a URL. */
export interface IncomingFile {
  filename: string;
  data: Uint8Array;
  /** What the sender claimed; only trusted for plain-text types the bytes cannot prove. */
  declaredType: string | undefined;
}

/** A file that passed every check and is ready to be stored with its message. */
export interface PreparedAttachment {
  id: string;
  filename: string;
  mimeType: string;
  data: Uint8Array;
}

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

function isUtf8Text(data: Uint8Array): boolean {
  if (data.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}

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

/** Checks size and type of every file; refuses the whole request on the first bad one. */
export async function prepareAttachment(
  deps: Pick<CoreDeps, "ids" | "limits">,
  file: IncomingFile,
  source: string,
): Promise<PreparedAttachment> {
  if (file.data.byteLength > deps.limits.maxAttachmentBytes) {
    throw new DomainError(
      "attachment_too_large",
      `${source} is ${file.data.byteLength} bytes; the limit is ${deps.limits.maxAttachmentBytes} bytes`,
    );
  }
  if (file.data.byteLength === 0) {
    throw new DomainError("attachment_type_not_allowed", `${source} is empty`);
  }
  const detected = await fileTypeFromBuffer(file.data);
  let mimeType: string | undefined;
  let extension: string | undefined;
  if (detected) {
    if (ALLOWED_BINARY_TYPES.has(detected.mime)) {
      mimeType = detected.mime === "application/x-cfb" ? "application/msword" : detected.mime;
      extension = detected.ext;
    }
  } else if (isUtf8Text(file.data)) {
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
    data: file.data,
  };
}

/** Downloads and checks every URL, then checks uploads: all before anything is written. */
export async function prepareAttachments(
  deps: Pick<CoreDeps, "ids" | "limits" | "fetchAttachment">,
  uploads: readonly IncomingFile[],
  urls: readonly string[],
): Promise<PreparedAttachment[]> {
  const prepared: PreparedAttachment[] = [];
  for (const [index, upload] of uploads.entries()) {
    prepared.push(await prepareAttachment(deps, upload, `attachment ${index + 1} ("${upload.filename}")`));
  }
  const downloads = await Promise.all(
    urls.map(async (url) => {
      const fetched = await deps.fetchAttachment(url);
      return prepareAttachment(
        deps,
        { filename: fetched.filename, data: fetched.data, declaredType: fetched.contentType },
        `attachment URL ${url}`,
      );
    }),
  );
  return [...prepared, ...downloads];
}

/** Writes the files; returns the rows to insert once the message id is known. */
export async function storeAttachmentFiles(
  deps: Pick<CoreDeps, "files">,
  prepared: readonly PreparedAttachment[],
): Promise<(messageId: number, orgId: number, now: Date) => Attachment[]> {
  for (const file of prepared) await deps.files.put(file.id, file.data);
  return (messageId, orgId, now) =>
    prepared.map((file) => ({
      id: file.id,
      orgId,
      messageId,
      filename: file.filename,
      mimeType: file.mimeType,
      fileSize: file.data.byteLength,
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
