import { createHash } from "node:crypto";
import type { CoreDeps } from "../deps.ts";
import { DomainError } from "../errors.ts";
import type { Attachment, AttachmentUpload } from "../model.ts";

/** Upload URL secrets are random (24 bytes), so a plain SHA-256 cannot be reversed by guessing. */
function uploadSecretHash(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Content types a presigned upload may announce (Linq's SupportedContentType list). */
export const UPLOAD_CONTENT_TYPES: readonly string[] = [
  "image/jpeg", "image/png", "image/gif", "image/heic", "image/heif", "image/tiff", "image/bmp", "image/svg+xml",
  "image/webp", "image/x-icon", "video/mp4", "video/quicktime", "video/mpeg", "video/mpeg2", "video/x-m4v",
  "video/x-msvideo", "video/3gpp", "audio/mpeg", "audio/mp3", "audio/x-m4a", "audio/mp4", "audio/x-caf",
  "audio/x-wav", "audio/x-aiff", "audio/aiff", "audio/aac", "audio/midi", "audio/amr", "application/pdf",
  "text/plain", "text/markdown", "text/vcard", "text/rtf", "text/csv", "text/html", "text/calendar",
  "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation", "application/vnd.ms-excel",
  "application/vnd.ms-powerpoint", "application/x-iwork-pages-sffpages", "application/x-iwork-numbers-sffnumbers",
  "application/x-iwork-keynote-sffkey", "application/epub+zip", "text/xml", "application/json", "application/zip",
  "application/x-gzip",
];

export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
export const UPLOAD_URL_VALIDITY_MS = 15 * 60 * 1000;

/**
 * Announces a file: answers the upload with the secret of its one-time URL (stored only as a
 * hash). The bytes must arrive within 15 minutes; the id never expires once they did.
 */
export async function createUpload(
  deps: CoreDeps,
  orgId: number,
  input: { filename: string; contentType: string; sizeBytes: number },
): Promise<{ upload: AttachmentUpload; secret: string }> {
  const filename = input.filename.split(/[\\/]/).pop()?.trim() ?? "";
  if (filename === "" || filename.length > 255) {
    throw new DomainError("validation_failed", "filename must be 1 to 255 characters", {
      field: "filename",
      reason: " must be 1 to 255 characters",
    });
  }
  const contentType = input.contentType.toLowerCase();
  if (!UPLOAD_CONTENT_TYPES.includes(contentType)) {
    throw new DomainError("attachment_type_not_allowed", `contentType: ${input.contentType} is not a supported file type`, {
      field: "contentType",
      reason: `: ${input.contentType} is not a supported file type`,
    });
  }
  if (!Number.isSafeInteger(input.sizeBytes) || input.sizeBytes < 1 || input.sizeBytes > MAX_UPLOAD_BYTES) {
    throw new DomainError("attachment_too_large", `sizeBytes must be 1 to ${MAX_UPLOAD_BYTES} (100 MB)`, {
      field: "sizeBytes",
      reason: ` must be 1 to ${MAX_UPLOAD_BYTES} (100 MB)`,
    });
  }
  const now = deps.clock.now();
  const upload: AttachmentUpload = {
    id: deps.ids.uuid(),
    orgId,
    filename,
    contentType,
    sizeBytes: input.sizeBytes,
    status: "pending",
    expiresAt: new Date(now.getTime() + UPLOAD_URL_VALIDITY_MS),
    createdAt: now,
    updatedAt: now,
  };
  const secret = deps.ids.secret(24);
  await deps.store.transaction((tx) => tx.attachmentUploads.create(upload, uploadSecretHash(secret)));
  return { upload, secret };
}

/**
 * Receives the bytes of an announced file at its upload URL, streamed to disk as they come:
 * exactly the announced size, of the announced type, before the URL expires.
 */
export async function receiveUpload(
  deps: CoreDeps,
  input: { id: string; secret: string; contentType: string | undefined; body: AsyncIterable<Uint8Array> },
): Promise<AttachmentUpload> {
  const found = await deps.store.read.attachmentUploads.findWithSecret(input.id);
  if (!found || found.secretHash !== uploadSecretHash(input.secret)) {
    throw new DomainError("attachment_not_found", "No upload at this URL");
  }
  const { upload } = found;
  if (deps.clock.now() > upload.expiresAt) throw new DomainError("forbidden", "This upload URL has expired; request a new one");
  if (upload.status === "complete") throw new DomainError("conflict", "This file was uploaded already");
  const received = input.contentType?.split(";")[0]?.trim().toLowerCase();
  if (received !== upload.contentType) {
    throw new DomainError(
      "content_type_mismatch",
      `Content-Type must be ${upload.contentType}, as announced (got ${received ?? "none"})`,
    );
  }
  const written = await deps.files.putStream(upload.id, input.body, upload.sizeBytes);
  if (written !== upload.sizeBytes) {
    await deps.files.remove(upload.id);
    throw new DomainError("validation_failed", `Received ${written} bytes; ${upload.sizeBytes} were announced`);
  }
  const now = deps.clock.now();
  await deps.store.transaction((tx) => tx.attachmentUploads.setStatus(upload.id, "complete", now));
  return { ...upload, status: "complete", updatedAt: now };
}

/** What V3 shows of an attachment: an upload, or a file that came with a message. */
export interface AttachmentInfo {
  id: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  status: AttachmentUpload["status"];
  createdAt: Date;
}

export async function getAttachmentInfo(deps: CoreDeps, orgId: number, id: string): Promise<AttachmentInfo> {
  const upload = await deps.store.read.attachmentUploads.findById(orgId, id);
  if (upload) {
    return {
      id,
      filename: upload.filename,
      contentType: upload.contentType,
      sizeBytes: upload.sizeBytes,
      status: upload.status,
      createdAt: upload.createdAt,
    };
  }
  const attachment = await deps.store.read.attachments.findById(id);
  if (!attachment || attachment.orgId !== orgId) throw new DomainError("attachment_not_found", "Attachment not found");
  return {
    id,
    filename: attachment.filename,
    contentType: attachment.mimeType,
    sizeBytes: attachment.fileSize,
    status: "complete",
    createdAt: attachment.createdAt,
  };
}

/** Deletes an upload or a message's file for good; messages keep the part, without a file. */
export async function deleteAttachment(deps: CoreDeps, orgId: number, id: string): Promise<void> {
  const storageKey = await deps.store.transaction(async (tx) => {
    const upload = await tx.attachmentUploads.findById(orgId, id);
    if (upload) {
      await tx.attachmentUploads.delete(id);
      return id;
    }
    const attachment = await tx.attachments.findById(id);
    if (!attachment || attachment.orgId !== orgId) throw new DomainError("attachment_not_found", "Attachment not found");
    await tx.attachments.delete(id);
    return attachment.storageKey;
  });
  await deps.files.remove(storageKey).catch(() => undefined);
}

/**
 * Uploaded files a message refers to by id, copied for the message (so deleting the message
 * or the upload leaves the other intact). The first message to use an upload keeps its id;
 * later ones get a new one. Returns the attachments to store and a cleanup for a failed send.
 */
export async function linkUploads(
  deps: CoreDeps,
  orgId: number,
  uploads: readonly { id: string; field: string }[],
): Promise<{ attachments: Map<string, Omit<Attachment, "messageId" | "createdAt">>; remove: () => Promise<void> }> {
  const attachments = new Map<string, Omit<Attachment, "messageId" | "createdAt">>();
  const copied: string[] = [];
  const remove = async () => {
    await Promise.all(copied.map((key) => deps.files.remove(key).catch(() => undefined)));
  };
  try {
    for (const { id, field } of uploads) {
      if (attachments.has(id)) continue;
      const upload = await deps.store.read.attachmentUploads.findById(orgId, id);
      if (!upload) {
        throw new DomainError("attachment_not_found", `${field}: no attachment ${id}`, { field, reason: `: no attachment ${id}` });
      }
      if (upload.status !== "complete") {
        throw new DomainError("attachment_not_ready", `${field}: attachment ${id} has not been uploaded yet`, {
          field,
          reason: `: attachment ${id} has not been uploaded yet`,
        });
      }
      const used = (await deps.store.read.attachments.findById(id)) !== undefined;
      const storageKey = deps.ids.uuid();
      await deps.files.copy(upload.id, storageKey);
      copied.push(storageKey);
      attachments.set(id, {
        id: used ? deps.ids.uuid() : id,
        orgId,
        filename: upload.filename,
        mimeType: upload.contentType,
        fileSize: upload.sizeBytes,
        storageKey,
      });
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return { attachments, remove };
}
