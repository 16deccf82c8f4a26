import type { FastifyInstance, FastifyRequest } from "fastify";
import multipart, { type Multipart, type MultipartFile } from "@fastify/multipart";
import type { IncomingFile } from "../../core/attachments/attachments.ts";
import { DomainError } from "../../core/errors.ts";

/** Per-request multipart limits besides the per-file size (OPENLINQ_MAX_ATTACHMENT_BYTES). */
export const MULTIPART_LIMITS = { files: 20, fields: 200, fieldSize: 1024 * 1024 } as const;

/**
 * Every write endpoint takes JSON or multipart (Linq's V2 request formats). Multipart keys use Rails
 * brackets — `message[text]`, `message[attachments][]` — and are turned into the same
 * nested object a JSON body would give, with files as IncomingFile values, before schema
 * validation runs. Files are buffered: the attachment limit bounds each one.
 */
export async function registerMultipart(app: FastifyInstance, maxFileBytes: number): Promise<void> {
  await app.register(multipart, {
    attachFieldsToBody: true,
    limits: { fileSize: maxFileBytes, ...MULTIPART_LIMITS },
    throwFileSizeLimit: true,
  });
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
    const raw = (request.body ?? {}) as Record<string, Multipart | Multipart[]>;
    const entries: [string, unknown][] = [];
    for (const [key, value] of Object.entries(raw)) {
      for (const part of Array.isArray(value) ? value : [value]) {
        if (part.type === "file") {
          // Files only ever come as lists (`message[attachments][]`): without the brackets,
          // `message[attachments]` is read as a list of one rather than refused.
          entries.push([key.endsWith("[]") ? key : `${key}[]`, await toIncomingFile(part)]);
        } else {
          entries.push([key, part.value]);
        }
      }
    }
    request.body = nestBracketKeys(entries);
  });
}

async function toIncomingFile(part: MultipartFile): Promise<IncomingFile> {
  const data = await part.toBuffer();
  return { filename: part.filename, data, declaredType: part.mimetype };
}

export function isIncomingFile(value: unknown): value is IncomingFile {
  return typeof value === "object" && value !== null && (value as IncomingFile).data instanceof Uint8Array;
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
