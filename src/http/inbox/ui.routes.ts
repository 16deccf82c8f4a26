import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { ensureInboxBuild, INBOX_DIST_DIR, type InboxManifest } from "../../../web/build.ts";

interface Asset {
  body: Buffer;
  gzipped: Buffer;
  type: string;
  etag: string;
  cacheControl: string;
}

/**
 * The UI needs no API to load: scripts and styles only from us; images and media from
 * anywhere because attachment URLs follow OPENLINQ_PUBLIC_URL, which may be another host.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src * data: blob:",
  "media-src * data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

function toAsset(body: Buffer, type: string, cacheControl: string): Asset {
  return {
    body,
    gzipped: gzipSync(body, { level: 9 }),
    type,
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
    cacheControl,
  };
}

/** Reads the build once into memory (a few tens of KB), gzipped ahead of time. */
function readAssets(manifest: InboxManifest, dir: string): Map<string, Asset> {
  // Hashed names never change content: cache for a year. index.html is revalidated each time.
  const immutable = "public, max-age=31536000, immutable";
  return new Map([
    ["/", toAsset(readFileSync(join(dir, "index.html")), "text/html; charset=utf-8", "no-cache")],
    [
      `/assets/${manifest.script}`,
      toAsset(readFileSync(join(dir, "assets", manifest.script)), "text/javascript; charset=utf-8", immutable),
    ],
    [
      `/assets/${manifest.stylesheet}`,
      toAsset(readFileSync(join(dir, "assets", manifest.stylesheet)), "text/css; charset=utf-8", immutable),
    ],
  ]);
}

async function loadAssets(dir: string): Promise<Map<string, Asset>> {
  try {
    return readAssets(await ensureInboxBuild(dir), dir);
  } catch (error) {
    // A parallel process may have been swapping in its own build while we read: once more.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return readAssets(await ensureInboxBuild(dir), dir);
  }
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset) {
  reply
    .header("content-type", asset.type)
    .header("cache-control", asset.cacheControl)
    .header("etag", asset.etag)
    .header("vary", "accept-encoding")
    .header("x-content-type-options", "nosniff");
  if (asset.type.startsWith("text/html")) {
    reply.header("content-security-policy", CONTENT_SECURITY_POLICY).header("referrer-policy", "no-referrer");
  }
  if (request.headers["if-none-match"] === asset.etag) return reply.code(304).send();
  if (/\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""))) {
    return reply.header("content-encoding", "gzip").send(asset.gzipped);
  }
  return reply.send(asset.body);
}

/** The built inbox at `/` and `/assets/*`; the build runs here first when it is missing or stale. */
export const uiRoutes: FastifyPluginAsync<{ distDir?: string }> = async (app, options) => {
  let assets: Map<string, Asset>;
  try {
    assets = await loadAssets(options.distDir ?? INBOX_DIST_DIR);
  } catch (error) {
    // The API must start even where the UI cannot be built (a read-only install, say).
    app.log.warn({ err: error }, "inbox UI unavailable: its build failed");
    const detail = `The inbox UI is not built (${(error as Error).message}). Run \`npm run build\` and restart.`;
    app.get("/", { schema: { hide: true } }, (_request, reply) => reply.code(503).type("text/plain; charset=utf-8").send(detail));
    return;
  }
  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    reply.code(404).type("text/plain; charset=utf-8").send(`No inbox asset at ${request.url.split("?")[0]}`);

  app.get("/", { schema: { hide: true } }, (request, reply) => send(request, reply, assets.get("/")!));
  app.get<{ Params: { file: string } }>("/assets/:file", { schema: { hide: true } }, (request, reply) => {
    const asset = assets.get(`/assets/${request.params.file}`);
    return asset ? send(request, reply, asset) : notFound(request, reply);
  });
};
