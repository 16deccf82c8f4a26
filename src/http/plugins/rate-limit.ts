import type { FastifyReply, FastifyRequest } from "fastify";
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { DomainError } from "../../core/errors.ts";
import type { RateLimiterFactory } from "../../storage/rate-limit-store.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Extra per-token limit for one route: `points` requests per `seconds`. */
    routeRateLimit?: { points: number; seconds: number; message: string };
  }
}

export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  /** Where budgets are counted: memory, or shared by every node (Postgres); memory when absent. */
  store?: RateLimiterFactory;
}

/**
 * Per-token limits: a steady rate per second plus a burst bucket (rate-limiter-flexible's
 * BurstyRateLimiter). Keyed by token id, not by connection, so on Postgres every node counts
 * in one shared store (see rateLimiterFactory). A refusal sets the
 * RateLimit-* and Retry-After headers and throws `rate_limited` with `retryAfter`, which the
 * face renders.
 */
export function createRateLimiter(options: RateLimitOptions) {
  const limiter = options.store ?? ((budget) => new RateLimiterMemory(budget));
  const perSecond =
    options.perSecond > 0 ? limiter({ keyPrefix: "token", points: options.perSecond, duration: 1 }) : undefined;
  // A burst of 0 means exactly the steady rate, not "one extra request".
  const steady =
    perSecond && options.burst > 0
      ? new BurstyRateLimiter(perSecond, limiter({ keyPrefix: "burst", points: options.burst, duration: 10 }))
      : perSecond;
  const routeLimiters = new Map<string, RateLimiterAbstract>();

  function headers(reply: FastifyReply, limit: number, result: RateLimiterRes) {
    reply.header("RateLimit-Limit", limit);
    reply.header("RateLimit-Remaining", Math.max(0, result.remainingPoints));
    reply.header("RateLimit-Reset", Math.ceil(result.msBeforeNext / 1000));
  }

  async function consume(
    reply: FastifyReply,
    limiter: BurstyRateLimiter | RateLimiterAbstract,
    limit: number,
    key: string,
    message: string,
  ): Promise<void> {
    let result: RateLimiterRes;
    try {
      result = await limiter.consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      headers(reply, limit, rejection);
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      reply.header("Retry-After", retryAfter);
      throw new DomainError("rate_limited", message, { retryAfter });
    }
    headers(reply, limit, result);
  }

  return async function rateLimit(request: FastifyRequest, reply: FastifyReply) {
    const key = String(request.caller.tokenId);
    if (steady) {
      await consume(
        reply,
        steady,
        options.perSecond,
        key,
        `Rate limit exceeded: ${options.perSecond} requests per second per token`,
      );
    }
    const route = request.routeOptions.config.routeRateLimit;
    if (route) {
      const id = `${request.routeOptions.url}:${route.points}/${route.seconds}`;
      let routeLimiter = routeLimiters.get(id);
      if (!routeLimiter) {
        routeLimiter = limiter({ keyPrefix: id, points: route.points, duration: route.seconds });
        routeLimiters.set(id, routeLimiter);
      }
      await consume(reply, routeLimiter, route.points, key, route.message);
    }
  };
}

/**
 * Requests with a missing or wrong token, counted per client address in this node's memory:
 * past `perMinute` failures, the address gets `rate_limited` before its token is even looked
 * up, until the minute's window ends. Only failures count, and a token this node already
 * knows is never held up, so well-behaved clients behind the same address are unaffected.
 */
export function createAuthFailureLimiter(perMinute: number) {
  if (perMinute <= 0) return undefined;
  const failures = new RateLimiterMemory({ keyPrefix: "auth-failures", points: perMinute, duration: 60 });
  return {
    /** Refuses (throws `rate_limited`) when `address` used up its failures. */
    async check(address: string, reply: FastifyReply): Promise<void> {
      const seen = await failures.get(address);
      if (!seen || seen.consumedPoints < perMinute) return;
      const retryAfter = Math.max(1, Math.ceil(seen.msBeforeNext / 1000));
      reply.header("Retry-After", retryAfter);
      throw new DomainError(
        "rate_limited",
        `Too many requests with a missing or invalid token from this address (${perMinute} per minute): retry in ${retryAfter} s`,
        { retryAfter },
      );
    },
    async failed(address: string): Promise<void> {
      await failures.penalty(address, 1);
    },
  };
}
