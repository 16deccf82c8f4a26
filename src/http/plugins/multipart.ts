import type { FastifyInstance, FastifyRequest } from "fastify";
import multipart, { type MultipartFile } from "@fastify/multipart";
import { MAX_ATTACHMENTS_PER_MESSAGE, type IncomingFile } from "../../core/attachments/attachments.ts";
import { DomainError } from "../../core/errors.ts";
import type { FileStore } from "../../core/ports.ts";

/**
 * Per-request multipart limits besides the per-file size (OPENLINQ_MAX_ATTACHMENT_BYTES):
 * no request carries more files than one message may.
 */
export const MULTIPART_LIMITS = { files: MAX_ATTACHMENTS_PER_MESSAGE, fields: 200, fieldSize: 1024 * 1024 } as const;

declare module "fastify" {
  interface FastifyRequest {
    /** Staging keys of the files this request uploaded; dropped once it is answered (adopted ones are gone already). */
    stagedUploads: string[] | null;
  }
}

/**
 * Every write endpoint takes JSON or multipart (Linq's V2 request formats). Multipart keys use Rails
 * brackets — `message[text]`, `message[attachments][]` — and are turned into the same
 * nested object a JSON body would give, with files as IncomingFile values, before schema
 * validation runs. Files are streamed to the file store's staging area as they arrive, so
 * memory never holds one whole; whatever the request did not make an attachment is
 * dropped once it is answered.
 */
export async function registerMultipart(app: FastifyInstance, options: { maxFileBytes: number; files: FileStore }): Promise<void> {
  const { maxFileBytes, files } = options;
  await app.register(multipart, {
    limits: { fileSize: maxFileBytes, ...MULTIPART_LIMITS },
    throwFileSizeLimit: true,
  });
  app.decorateRequest("stagedUploads", null);
  const dropStaged = async (request: FastifyRequest) => {
    const keys = request.stagedUploads;
    request.stagedUploads = null;
    if (keys) await Promise.all(keys.map((key) => files.discard(key).catch(() => undefined)));
  };
  // Before the answer goes out, so a client that sees it also sees the disk as it stays;
  // the other two cover requests that never get to send one.
  app.addHook("onSend", async (request) => dropStaged(request));
  app.addHook("onResponse", dropStaged);
  app.addHook("onRequestAbort", dropStaged);
  // Without a boundary busboy throws a plain Error (a 500); it is the client's mistake.
  // preParsing runs after authentication, so an anonymous request still gets its 401.
  app.addHook("preParsing", async (request: FastifyRequest) => {
    const type = request.headers["content-type"];
    if (typeof type === "string" && /^multipart\/form-data\b/i.test(type) && !/;\s*boundary=/i.test(type)) {
      throw new DomainError("bad_request", "multipart/form-data needs a boundary parameter in Content-Type");
    }
  });
  app.addHook("preValidation", async (request: FastifyRequest) => {
    if (!request.isMultipart()) return;
    const entries: [string, unknown][] = [];
    try {
      for await (const part of request.parts()) {
        if (part.type === "file") {
          // Files only ever come as lists (`message[attachments][]`): without the brackets,
          // `message[attachments]` is read as a list of one rather than refused.
          const key = part.fieldname.endsWith("[]") ? part.fieldname : `${part.fieldname}[]`;
          entries.push([key, await stageUpload(request, part)]);
        } else {
          entries.push([part.fieldname, part.value]);
        }
      }
    } catch (error) {
      await dropStaged(request);
      throw asMultipartError(error);
    }
    request.body = nestBracketKeys(entries);
  });

  async function stageUpload(request: FastifyRequest, part: MultipartFile): Promise<IncomingFile> {
    // A body cut off inside this part gets the part destroyed before it reaches us; piping
    // a stream destroyed before the pipe exists waits for an end that never comes.
    if (part.file.destroyed && !part.file.readableEnded) {
      throw new DomainError("bad_request", `Malformed multipart/form-data body: part "${part.fieldname}" ends early`);
    }
    const staged = await files.stage(part.file, { maxBytes: maxFileBytes, what: `attachment "${part.filename}"` });
    (request.stagedUploads ??= []).push(staged.key);
    // busboy stops a file at the limit and marks it truncated rather than failing.
    if (part.file.truncated) {
      throw new DomainError("payload_too_large", `An attachment is larger than the limit of ${maxFileBytes} bytes`);
    }
    const file: IncomingFile = { filename: part.filename, staged, declaredType: part.mimetype };
    incomingFiles.add(file);
    return file;
  }
}

/**
 * Files this plugin staged. A JSON body can spell an object of the same shape
 * (`{"file":{"staged":{"key":"…"}}}`); membership here is what no request body can forge,
 * so a route never adopts a staging key a client named.
 */
const incomingFiles = new WeakSet<IncomingFile>();

/**
 * Too many files is a 422 like too many attachment URLs. Other limits and prototype keys
 * come as Fastify errors with their status; anything else the
 * parser throws ("Part terminated early", "Unexpected end of form", a malformed header)
 * means the body is not valid multipart: the client's mistake, a 400.
 */
function asMultipartError(error: unknown): unknown {
  if (error instanceof DomainError) return error;
  if ((error as { code?: string }).code === "FST_FILES_LIMIT") {
    return new DomainError(
      "validation_failed",
      `Too many files: a message carries at most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments`,
      { field: "attachments" },
    );
  }
  const status = (error as { statusCode?: number }).statusCode;
  if (typeof status === "number" && status < 500) return error;
  if ((error as NodeJS.ErrnoException).syscall !== undefined) return error;
  return new DomainError("bad_request", `Malformed multipart/form-data body: ${(error as Error).message}`);
}

export function isIncomingFile(value: unknown): value is IncomingFile {
  return typeof value === "object" && value !== null && incomingFiles.has(value as IncomingFile);
}

/** Segments that would reach Object.prototype (`__proto__[x]=1` must never set `({}).x`). */
const UNSAFE_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * `a[b][c]=1`, `a[list][]=x` (repeated) → `{a:{b:{c:"1"}, list:["x", …]}}`. Keys that
 * name a prototype property are refused (400), as @fastify/multipart does for `__proto__`.
 */
export function nestBracketKeys(entries: readonly [string, unknown][]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
    const path = match ? [match[1]!, ...[...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!)] : [key];
    if (path.some((segment) => UNSAFE_SEGMENTS.has(segment))) {
      throw new DomainError("bad_request", `Field name "${key}" is not allowed`, { field: key });
    }
    let node: Record<string, unknown> = root;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i]!;
      const isLast = i === path.length - 1;
      const nextIsArray = path[i + 1] === "";
      if (segment === "") break;
      if (isLast) {
        node[segment] = value;
      } else if (nextIsArray && i + 1 === path.length - 1) {
        const list = Array.isArray(node[segment]) ? (node[segment] as unknown[]) : [];
        list.push(value);
        node[segment] = list;
        break;
      } else {
        const child = node[segment];
        node[segment] = typeof child === "object" && child !== null && !Array.isArray(child) ? child : {};
        node = node[segment] as Record<string, unknown>;
      }
    }
  }
  return root;
}
