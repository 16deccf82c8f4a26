import fp from "fastify-plugin";
import type { FastifyReply, FastifyRequest } from "fastify";
import { createHash } from "node:crypto";
import { DomainError } from "../../core/errors.ts";
import type { Caller } from "../../core/model.ts";
import type { Store } from "../../core/ports.ts";
import { createAuthFailureLimiter, createRateLimiter, type RateLimitOptions } from "./rate-limit.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the auth hook on every authenticated route. */
    caller: Caller;
  }
  interface FastifyInstance {
    /** The one authenticator of every face (see authPlugin). */
    auth: {
      /** An onRequest hook accepting the token from these places (each face names its own). */
      authenticate: (sources: readonly TokenSource[]) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
      /** onRequest hook after authenticate: per-token limits, one budget across faces. */
      rateLimit: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
      /** After a token's row is deleted: every node's cache drops it. */
      revoked: (tokenId: number) => Promise<void>;
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
 * Tells every node that a token no longer works, so each drops it from its cache: through
 * Postgres LISTEN/NOTIFY between nodes, in-process on SQLite. See src/storage/token-revocations.ts.
 */
export interface TokenRevocations {
  /** Tells every node, this one included. */
  publish(tokenId: number): Promise<void>;
  /** Calls `listener` with each revoked token id, whichever node revoked it. */
  subscribe(listener: (tokenId: number) => void): Promise<() => Promise<void>>;
}

export interface AuthOptions {
  store: Store;
  rateLimit: RateLimitOptions;
  /** Missing or wrong tokens a client address may send per minute before it is refused unlooked (0: no limit). */
  authFailuresPerMinute: number;
  revocations: TokenRevocations;
  onError: (error: unknown, message: string) => void;
}

/** Entries at most this old are trusted; a revocation notice lost with a dropped connection is covered by it. */
const CACHE_TTL_MS = 60_000;
const MAX_CACHED = 10_000;

/**
 * Resolves the integration token (from the places the face accepts, see TokenSource) to the
 * caller's organization, for every face, with one cache: a lookup per request would be the
 * hot path's largest cost. The cache is bounded; entries live CACHE_TTL_MS, and a revoked
 * token is dropped from every node's cache at once (TokenRevocations).
 *
 * A token this node does not know costs a lookup, so before it, the client's address must
 * not have used up its failures (createAuthFailureLimiter).
 *
 * Refusals are thrown as DomainErrors (`unauthorized`, `rate_limited` with `retryAfter`), so
 * each face's own error handler renders them in its envelope.
 */
export const authPlugin = fp<AuthOptions>(
  async (app, { store, rateLimit, authFailuresPerMinute, revocations, onError }) => {
    const cache = new Map<string, { caller: Caller; until: number }>();
    const failures = createAuthFailureLimiter(authFailuresPerMinute);
    // Keyed by a digest, so this process's memory holds no token either.
    const cacheKey = (token: string) => createHash("sha256").update(token, "utf8").digest("base64url");

    function cached(token: string): Caller | undefined {
      const key = cacheKey(token);
      const entry = cache.get(key);
      if (!entry) return undefined;
      if (entry.until > Date.now()) return entry.caller;
      cache.delete(key);
      return undefined;
    }

    async function lookUp(token: string): Promise<Caller | undefined> {
      const caller = await store.read.tokens.findByToken(token);
      if (caller) {
        if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
        cache.set(cacheKey(token), { caller, until: Date.now() + CACHE_TTL_MS });
      }
      return caller;
    }

    function forget(tokenId: number): void {
      for (const [key, entry] of cache) if (entry.caller.tokenId === tokenId) cache.delete(key);
    }
    const stopListening = await revocations.subscribe(forget);
    app.addHook("onClose", async () => {
      await stopListening();
    });

    const authenticate = (sources: readonly TokenSource[]) => async (request: FastifyRequest, reply: FastifyReply) => {
      const token = tokenOf(request, sources);
      const known = token === undefined ? undefined : cached(token);
      if (known) {
        request.caller = known;
        return;
      }
      await failures?.check(request.ip, reply);
      const caller = token === undefined ? undefined : await lookUp(token);
      if (!caller) {
        await failures?.failed(request.ip);
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

    async function revoked(tokenId: number): Promise<void> {
      forget(tokenId);
      try {
        await revocations.publish(tokenId);
      } catch (error) {
        // The revocation is committed; other nodes drop the token when their cache entry expires.
        onError(error, "token revocation notice failed; other nodes stop accepting the token within the cache TTL");
      }
    }

    app.decorateRequest("caller", null as unknown as Caller);
    app.decorate("auth", { authenticate, rateLimit: createRateLimiter(rateLimit), revoked });
  },
  { name: "openlinq-auth" },
);
