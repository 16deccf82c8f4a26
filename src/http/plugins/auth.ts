import fp from "fastify-plugin";
import type { FastifyReply, FastifyRequest } from "fastify";
import { createHash } from "node:crypto";
import { DomainError } from "../../core/errors.ts";
import type { Caller } from "../../core/model.ts";
import type { Store } from "../../core/ports.ts";
import { createRateLimiter, type RateLimitOptions } from "./rate-limit.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the auth hook on every authenticated route. */
    caller: Caller;
  }
  interface FastifyInstance {
    /** The one authenticator of every face (see authPlugin). */
    auth: {
      /** An onRequest hook accepting the token from these places (each face names its own). */
      authenticate: (sources: readonly TokenSource[]) => (request: FastifyRequest) => Promise<void>;
      /** onRequest hook after authenticate: per-token limits, one budget across faces. */
      rateLimit: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    };
  }
}

/**
 * Where a face takes the token from: V2 only `X-LINQ-INTEGRATION-TOKEN` (Linq's V2 refuses
 * Bearer), V3 `Authorization: Bearer`, the inbox also `?token=` (EventSource cannot send headers).
 */
export type TokenSource = "integration-header" | "bearer" | "query";

export const TOKEN_HEADER = "x-linq-integration-token";

function tokenOf(request: FastifyRequest, sources: readonly TokenSource[]): string | undefined {
  const header = request.headers[TOKEN_HEADER];
  if (sources.includes("integration-header") && typeof header === "string" && header.trim() !== "") return header.trim();
  const authorization = request.headers.authorization;
  if (sources.includes("bearer") && authorization?.startsWith("Bearer ")) return authorization.slice(7).trim();
  if (sources.includes("query")) {
    const query = (request.query as Record<string, unknown> | undefined)?.token;
    if (typeof query === "string" && query !== "") return query;
  }
  return undefined;
}

/**
 * Resolves the integration token (from the places the face accepts, see TokenSource) to the
 * caller's organization, for every face, with one cache.
 * Positive lookups are cached: tokens cannot be revoked through the API, and a lookup per
 * request would be the hot path's largest cost. The cache is bounded.
 *
 * Refusals are thrown as DomainErrors (`unauthorized`, `rate_limited` with `retryAfter`), so
 * each face's own error handler renders them in its envelope.
 */
export const authPlugin = fp<{ store: Store; rateLimit: RateLimitOptions }>(
  async (app, { store, rateLimit }) => {
    const cache = new Map<string, Caller>();
    const MAX_CACHED = 10_000;

    async function resolve(token: string): Promise<Caller | undefined> {
      // Keyed by a digest, so this process's memory holds no token either.
      const hash = createHash("sha256").update(token, "utf8").digest("base64url");
      const cached = cache.get(hash);
      if (cached) return cached;
      const caller = await store.read.tokens.findByToken(token);
      if (caller) {
        if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
        cache.set(hash, caller);
      }
      return caller;
    }

    const authenticate = (sources: readonly TokenSource[]) => async (request: FastifyRequest) => {
      const token = tokenOf(request, sources);
      const caller = token === undefined ? undefined : await resolve(token);
      if (!caller) {
        throw new DomainError(
          "unauthorized",
          token === undefined
            ? sources.includes("integration-header")
              ? "Missing integration token: send it in the X-LINQ-INTEGRATION-TOKEN header"
              : "Missing token: send it as Authorization: Bearer <token>"
            : "Invalid integration token",
        );
      }
      request.caller = caller;
    };

    app.decorateRequest("caller", null as unknown as Caller);
    app.decorate("auth", { authenticate, rateLimit: createRateLimiter(rateLimit) });
  },
  { name: "openlinq-auth" },
);
