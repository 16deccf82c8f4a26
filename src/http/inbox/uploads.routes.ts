import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import type { FastifyPluginAsync } from "fastify";
import { DomainError } from "../../core/errors.ts";
import type { FileStore, StagedFile } from "../../core/ports.ts";
import { contentDisposition, encodeFilename } from "../content-disposition.ts";
import { isIncomingFile } from "../plugins/multipart.ts";
import { errorResponses } from "../v2/schemas.ts";

/**
 * Files the person at the inbox attaches when writing as a recipient. The simulator takes
 * attachments the way a carrier does, as URLs it downloads; so the browser first stages
 * the file here and passes the returned URL as `attachment_urls`. The download then runs
 * through the same fetcher and checks as any attachment URL (so it needs
 * OPENLINQ_ALLOW_PRIVATE_URLS, on by default, when the server fetches from itself).
 *
 * Staged files are kept on disk (in the attachment store, under a fresh key) for a short
 * while: long enough to be fetched once, bounded in total so a forgotten tab cannot fill
 * the disk. They have no attachment row, so the start-up sweep removes any a restart left.
 */
const STAGING_TTL_MS = 15 * 60_000;
const MAX_STAGED_BYTES = 256 * 1024 * 1024;

interface StagedUpload {
  filename: string;
  type: string;
  size: number;
  timer: NodeJS.Timeout;
}

export interface UploadOptions {
  /** Where this server is reachable from itself (the configured or listening base URL). */
  baseUrl: () => string;
}

export function createUploadStaging(files: FileStore) {
  const staged = new Map<string, StagedUpload>();
  let total = 0;
  const drop = (id: string) => {
    const file = staged.get(id);
    if (!file) return;
    clearTimeout(file.timer);
    staged.delete(id);
    total -= file.size;
    void files.remove(id).catch(() => undefined);
  };
  return {
    async put(filename: string, type: string, upload: StagedFile): Promise<string> {
      // Oldest first out when over budget: the newest upload is the one someone waits for.
      for (const id of staged.keys()) {
        if (total + upload.size <= MAX_STAGED_BYTES) break;
        drop(id);
      }
      const id = randomUUID();
      await files.adopt(upload.key, id);
      const timer = setTimeout(() => drop(id), STAGING_TTL_MS);
      timer.unref();
      staged.set(id, { filename, type, size: upload.size, timer });
      total += upload.size;
      return id;
    },
    get: (id: string) => staged.get(id),
    pathOf: (id: string) => files.pathOf(id),
    clear() {
      for (const id of [...staged.keys()]) drop(id);
    },
  };
}

export type UploadStaging = ReturnType<typeof createUploadStaging>;

/** POST /openlinq/v1/inbox/uploads (authenticated by the parent scope). */
export const uploadRoutes: FastifyPluginAsync<UploadOptions & { staging: UploadStaging }> = async (app, options) => {
  app.post<{ Body: { file?: unknown } }>(
    "/inbox/uploads",
    {
      schema: {
        tags: ["Inbox"],
        summary: "Stage a file for a simulated recipient's message; answers the URL to pass as attachment_urls",
        consumes: ["multipart/form-data"],
        body: { type: "object", properties: { file: { description: "The file (multipart/form-data)" } } },
        response: {
          201: {
            type: "object",
            properties: {
              url: { type: "string" },
              filename: { type: "string" },
              mime_type: { type: "string" },
              file_size: { type: "integer" },
              expires_in_seconds: { type: "integer" },
            },
          },
          ...errorResponses("render", [400, 413]),
        },
      },
    },
    async (request, reply) => {
      // The multipart plugin hands every file field over as a list.
      const given = request.body?.file;
      const files = Array.isArray(given) ? given : [given];
      const file = files[0];
      if (files.length !== 1 || !isIncomingFile(file)) {
        throw new DomainError("bad_request", "exactly one file is required, sent as multipart/form-data", { field: "file" });
      }
      // Served back as the Content-Type: only a bare type/subtype token, never whatever the part claimed.
      const declared = (file.declaredType ?? "").split(";")[0]!.trim().toLowerCase();
      const type = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(declared) ? declared : "application/octet-stream";
      const id = await options.staging.put(file.filename, type, file.staged);
      return reply.code(201).send({
        url: `${options.baseUrl()}/openlinq/v1/inbox/uploads/${id}/${encodeFilename(file.filename)}`,
        filename: file.filename,
        mime_type: type,
        file_size: file.staged.size,
        expires_in_seconds: STAGING_TTL_MS / 1000,
      });
    },
  );
};

/** GET /openlinq/v1/inbox/uploads/{id}/{filename}: no token, the id is the secret (like attachment URLs). */
export const stagedFileRoutes: FastifyPluginAsync<{ staging: UploadStaging }> = async (app, { staging }) => {
  app.get<{ Params: { id: string; filename: string } }>(
    "/inbox/uploads/:id/:filename",
    {
      schema: {
        tags: ["Inbox"],
        summary: "Download a staged file (what the simulator fetches)",
        params: {
          type: "object",
          required: ["id", "filename"],
          properties: { id: { type: "string", format: "uuid" }, filename: { type: "string" } },
        },
      },
    },
    async (request, reply) => {
      const file = staging.get(request.params.id);
      if (!file) throw new DomainError("attachment_not_found", "Staged file not found (they expire after 15 minutes)");
      return reply
        .type(file.type)
        .header("content-disposition", contentDisposition("attachment", file.filename))
        .header("cache-control", "no-store")
        .header("content-length", file.size)
        .send(createReadStream(staging.pathOf(request.params.id)));
    },
  );
};
