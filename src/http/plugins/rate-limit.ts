import type { FastifyReply, FastifyRequest } from "fastify";
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { DomainError } from "../../core/errors.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Extra per-token limit for one route: `points` requests per `seconds`. */
    routeRateLimit?: { points: number; seconds: number; message: string };
  }
}

export interface RateLimitOptions {
  perSecond: number;
  burst: number;
}

/**
 * Per-token limits: a steady rate per second plus a burst bucket (rate-limiter-flexible's
 * BurstyRateLimiter). Keyed by token id, not by connection, so a store shared between
 * instances can replace the in-memory one without changing callers. A refusal sets the
 * RateLimit-* and Retry-After headers and throws `rate_limited` with `retryAfter`, which the
 * face renders.
 */
export function createRateLimiter(options: RateLimitOptions) {
  const perSecond =
    options.perSecond > 0 ? new RateLimiterMemory({ points: options.perSecond, duration: 1 }) : undefined;
  // A burst of 0 means exactly the steady rate, not "one extra request".
  const steady =
    perSecond && options.burst > 0
      ? new BurstyRateLimiter(
          perSecond,
          new RateLimiterMemory({ keyPrefix: "burst", points: options.burst, duration: 10 }),
        )
      : perSecond;
  const routeLimiters = new Map<string, RateLimiterMemory>();

  function headers(reply: FastifyReply, limit: number, result: RateLimiterRes) {
    reply.header("RateLimit-Limit", limit);
    reply.header("RateLimit-Remaining", Math.max(0, result.remainingPoints));
    reply.header("RateLimit-Reset", Math.ceil(result.msBeforeNext / 1000));
  }

  async function consume(
    reply: FastifyReply,
    limiter: BurstyRateLimiter | RateLimiterMemory,
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
      let limiter = routeLimiters.get(id);
      if (!limiter) {
        limiter = new RateLimiterMemory({ keyPrefix: id, points: route.points, duration: route.seconds });
        routeLimiters.set(id, limiter);
      }
      await consume(reply, limiter, route.points, key, route.message);
    }
  };
}
