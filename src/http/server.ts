import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { CoreDeps } from "../core/deps.ts";
import type { ApiFaults } from "../core/faults/api-faults.service.ts";
import { DomainError } from "../core/errors.ts";
import { registerFaceErrors, renderOpenlinqProblem } from "./errors.ts";
import { authPlugin, type AuthOptions } from "./plugins/auth.ts";
import { registerMultipart } from "./plugins/multipart.ts";
import { lazySchemaCompilers } from "./plugins/lazy-schemas.ts";
import { readCachePlugin } from "./plugins/read-cache.ts";
import { v2Api } from "./v2/index.ts";
import { v3Api } from "./v3/index.ts";
import { lineVcardRoute } from "./v3/phone-numbers.routes.ts";
import { uploadReceiverRoute } from "./v3/attachments.routes.ts";
import type { Metrics } from "../observability/metrics.ts";
import { contentDisposition } from "./content-disposition.ts";

export interface HttpOptions {
  deps: CoreDeps;
  logger: FastifyBaseLogger;
  /** Per-token limits, the per-address limit on failed sign-ins, and revocation notices (see authPlugin). */
  auth: Omit<AuthOptions, "store" | "onError">;
  maxAttachmentBytes: number;
  /** Request counts and latencies go here; absent, none are kept. */
  metrics?: Metrics;
  /** Injected faults; every Linq face registers the fault hook with its own error renderer. */
  faults: ApiFaults;
  /** Where the server is reachable, once listening (links in V3 answers). */
  baseUrl: () => string;
  /**
   * The store's version token (see src/storage/read-version.ts): list answers are kept
   * while it stays the same. Absent, every answer is computed.
   */
  readVersion?: () => Promise<string>;
  /** Extra faces (sandbox, delivery log, inbox) registered by the composition root. */
  extensions?: ((app: FastifyInstance) => Promise<void>)[];
}

/**
 * "1e400" in a query, a path or a multipart field coerces to Infinity, which ajv lets pass
 * as an integer (its number keywords skip non-finite values) and nothing downstream can
 * serialize or store. Returns where such a value sits, if anywhere.
 */
function findInfinite(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? undefined : path;
  if (typeof value !== "object" || value === null || depth > 32) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = findInfinite(item, `${path}/${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** JSON bodies above this are refused with 413; files go through multipart with their own limit. */
const JSON_BODY_LIMIT = 1024 * 1024;

/** A message's file, or an uploaded file not yet (or never) sent (V3 presigned uploads). */
async function findDownload(deps: CoreDeps, id: string) {
  const attachment = await deps.store.read.attachments.findById(id);
  if (attachment) return attachment;
  const upload = (await deps.store.read.attachmentUploads.findWithSecret(id))?.upload;
  if (!upload || upload.status !== "complete") return undefined;
  return { mimeType: upload.contentType, fileSize: upload.sizeBytes, filename: upload.filename, storageKey: upload.id };
}
const PROBE_ROUTES = new Set(["/healthz", "/readyz", "/metrics"]);

export async function createHttpServer(options: HttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: JSON_BODY_LIMIT,
    // Fastify's own pair of lines per request is replaced by one line of ours (onResponse below).
    logController: new LogController({ disableRequestLogging: true }),
    // Unique across nodes; a proxy's X-Request-Id is kept so its logs and ours line up.
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    ajv: { customOptions: { coerceTypes: "array", removeAdditional: false, allErrors: false } },
    // Each route's schemas compile at its first request, not at start (a quarter of the start-up).
    schemaController: { compilersFactory: lazySchemaCompilers() },
    // A bad percent-escape or an over-long path segment is answered before any route is
    // found; without this Fastify would answer in its own shape rather than ours.
    frameworkErrors: (error, request, reply) => {
      const status = error.code === "FST_ERR_MAX_PARAM_LENGTH" ? 414 : 400;
      const message =
        status === 414
          ? "A path segment of the URL is too long"
          : "The URL is not valid (a percent-escape does not decode to UTF-8)";
      return renderOpenlinqProblem(request, reply, { status, message });
    },
  });
  app.addHook("preHandler", async (request) => {
    const where =
      findInfinite(request.query, "querystring") ??
      findInfinite(request.params, "params") ??
      (request.isMultipart() ? findInfinite(request.body, "body") : undefined);
    if (where) throw new DomainError("bad_request", `${where} must be a finite number`);
  });

  // One line per request at info: request id (bound by Fastify), route pattern, status and
  // duration. The pattern, not the URL: a URL's query may carry a token (?token= on the
  // inbox stream) and its ids would make metric labels unbounded. Probes log at debug.
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "(unmatched)";
    const durationMs = reply.elapsedTime;
    options.metrics?.observeRequest(route, request.method, reply.statusCode, durationMs / 1000);
    const line = { method: request.method, route, status: reply.statusCode, durationMs: Math.round(durationMs * 10) / 10 };
    if (PROBE_ROUTES.has(route)) request.log.debug(line, "request");
    else request.log.info(line, "request");
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: "openlinq — Linq Partner API V2",
        version: "2.0.0",
        description: "Self-hosted implementation of the Linq Partner API V2, plus openlinq's own endpoints under /openlinq/v1.",
      },
      components: {
        securitySchemes: {
          ApiKeyAuth: { type: "apiKey", in: "header", name: "X-LINQ-INTEGRATION-TOKEN" },
        },
      },
      security: [{ ApiKeyAuth: [] }],
    },
  });
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    // One document per face, picked in the top bar; /docs/json has every route.
    uiConfig: {
      urls: [
        { url: "/openlinq/v1/openapi.json", name: "Linq V2 and openlinq's own endpoints" },
        { url: "/openlinq/v1/openapi/v3.json", name: "Linq V3" },
      ],
    },
  });
  await registerMultipart(app, { maxFileBytes: options.maxAttachmentBytes, files: options.deps.files });

  app.decorate("bodyLimits", { jsonBytes: JSON_BODY_LIMIT, attachmentBytes: options.maxAttachmentBytes });
  // Routes outside a face with its own handler (openlinq, sandbox, inbox) answer in the render shape.
  registerFaceErrors(app, renderOpenlinqProblem);
  await app.register(authPlugin, {
    ...options.auth,
    store: options.deps.store,
    onError: (error, message) => app.log.warn({ err: error }, message),
  });
  await app.register(readCachePlugin, { readVersion: options.readVersion, context: options.baseUrl });

  await app.register(v2Api, { prefix: "/api/partner/v2", deps: options.deps, faults: options.faults });
  await app.register(v3Api, {
    prefix: "/api/partner/v3",
    deps: options.deps,
    faults: options.faults,
    baseUrl: options.baseUrl,
  });

  await app.register(
    async (openlinq) => {
      openlinq.get("/openapi.json", { schema: { hide: true } }, async () => faceDocument(app.swagger(), "v2"));
      openlinq.get("/openapi/v3.json", { schema: { hide: true } }, async () => faceDocument(app.swagger(), "v3"));
      openlinq.get<{ Params: { id: string; filename: string } }>(
        "/attachments/:id/:filename",
        {
          schema: {
            tags: ["openlinq"],
            summary: "Download a stored attachment (unguessable URL, no token, like a storage bucket link)",
            params: {
              type: "object",
              required: ["id", "filename"],
              properties: { id: { type: "string", format: "uuid" }, filename: { type: "string" } },
            },
          },
        },
        async (request, reply) => {
          const attachment = await findDownload(options.deps, request.params.id);
          if (!attachment) throw new DomainError("attachment_not_found", "Attachment not found");
          return reply
            .type(attachment.mimeType)
            .header("Content-Length", attachment.fileSize)
            .header("Content-Disposition", contentDisposition("inline", attachment.filename))
            // Any file type is accepted, HTML and SVG included: served from the inbox's origin,
            // such a file must never run script there or be re-sniffed into something that does.
            .header("X-Content-Type-Options", "nosniff")
            .header("Content-Security-Policy", "sandbox")
            .send(createReadStream(options.deps.files.pathOf(attachment.storageKey)));
        },
      );
      openlinq.get("/health", { schema: { hide: true } }, async () => ({ status: "ok" }));
      await openlinq.register(lineVcardRoute, { deps: options.deps });
      await openlinq.register(uploadReceiverRoute, { deps: options.deps });
    },
    { prefix: "/openlinq/v1" },
  );

  for (const extension of options.extensions ?? []) await extension(app);
  return app;
}

const V3_PREFIX = "/api/partner/v3/";

/**
 * The OpenAPI document of one face, cut from the one @fastify/swagger builds of every route:
 * V3's paths under its own title and Bearer scheme; V2's document keeps everything else
 * (V2 and openlinq's own endpoints, which take either header).
 */
function faceDocument(all: ReturnType<FastifyInstance["swagger"]>, face: "v2" | "v3") {
  const document = all as { paths?: Record<string, unknown>; info?: Record<string, unknown>; components?: Record<string, unknown> };
  const paths = Object.fromEntries(
    Object.entries(document.paths ?? {}).filter(([path]) => path.startsWith(V3_PREFIX) === (face === "v3")),
  );
  if (face === "v2") return { ...document, paths };
  return {
    ...document,
    info: {
      title: "openlinq — Linq Partner API V3",
      version: "3.0.0",
      description:
        "Self-hosted implementation of the Linq Partner API V3 (base URL `/api/partner`, as the official SDKs take it). " +
        "Webhooks: see /v3/webhook-subscriptions; deliveries are signed the Standard Webhooks way.",
    },
    components: { ...document.components, securitySchemes: { BearerAuth: { type: "http", scheme: "bearer" } } },
    security: [{ BearerAuth: [] }],
    paths,
  };
}
