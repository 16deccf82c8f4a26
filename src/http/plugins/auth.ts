import { tokenHash } from "../../core/accounts/accounts.service.ts";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Caller } from "../../core/model.ts";
import type { Store } from "../../core/ports.ts";
import { sendError } from "../errors.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the auth hook on every authenticated route. */
    caller: Caller;
  }
}

export const TOKEN_HEADER = "x-linq-integration-token";

/**
 * Resolves X-LINQ-INTEGRATION-TOKEN to the caller's organization. Positive lookups are
 * cached: tokens cannot be revoked through the API, and a lookup per request would be
 * the hot path's largest cost. The cache is bounded.
 */
export function createAuthenticator(store: Store, options: { acceptBearer?: boolean } = {}) {
  const cache = new Map<string, Caller>();
  const MAX_CACHED = 10_000;

  async function resolve(token: string): Promise<Caller | undefined> {
    const hash = tokenHash(token);
    const cached = cache.get(hash);
    if (cached) return cached;
    const caller = await store.read.tokens.findByHash(hash);
    if (caller) {
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
      cache.set(hash, caller);
    }
    return caller;
  }

  function tokenOf(request: FastifyRequest): string | undefined {
    const header = request.headers[TOKEN_HEADER];
    if (typeof header === "string" && header.trim() !== "") return header.trim();
    if (options.acceptBearer) {
      const authorization = request.headers.authorization;
      if (authorization?.startsWith("Bearer ")) return authorization.slice(7).trim();
      const query = (request.query as Record<string, unknown> | undefined)?.token;
      if (typeof query === "string" && query !== "") return query;
    }
    return undefined;
  }

  return async function authenticate(request: FastifyRequest, reply: FastifyReply) {
    const token = tokenOf(request);
    const caller = token === undefined ? undefined : await resolve(token);
    if (!caller) {
      return sendError(request, reply, {
        status: 401,
        code: "unauthorized",
        detail:
          token === undefined
            ? "Missing integration token: send it in the X-LINQ-INTEGRATION-TOKEN header"
            : "Invalid integration token",
      });
    }
    request.caller = caller;
  };
}
