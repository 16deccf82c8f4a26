import { DomainError } from "../errors.ts";

/**
 * A fault an organization injects into its own API on purpose: for requests matching a
 * method and path pattern (and optionally one token), answer with an error status, add
 * latency, or both; for the next `count` matching requests, a `fraction` of them, or every
 * one until deleted. Faults only touch the Linq faces (V2, V3), never /openlinq/v1, so
 * the way to turn them off keeps working.
 */
export interface ApiFault {
  id: number;
  orgId: number;
  /** Upper-case HTTP method, or "*" for any. */
  method: string;
  /** Path pattern: `*` matches within one segment, `**` across segments. */
  path: string;
  tokenId: number | null;
  status: FaultStatus | null;
  /** Seconds in the Retry-After header of a 429 (and 503 when given). */
  retryAfter: number | null;
  latencyMs: number;
  /** Requests it may hit in total; null: no limit. */
  count: number | null;
  /** Probability that a matching request is hit, drawn from a seeded stream per fault. */
  fraction: number;
  matched: number;
  hits: number;
  createdAt: Date;
}

export const FAULT_STATUSES = [429, 500, 502, 503] as const;
export type FaultStatus = (typeof FAULT_STATUSES)[number];
export const MAX_FAULT_LATENCY_MS = 60_000;

export interface ApiFaultInput {
  method?: string | undefined;
  path: string;
  token?: string | undefined;
  status?: number | undefined;
  retryAfter?: number | undefined;
  latencyMs?: number | undefined;
  count?: number | undefined;
  fraction?: number | undefined;
}

export type NewApiFault = Omit<ApiFault, "id" | "matched" | "hits">;

/** What one request gets from a fault that hit it. */
export interface FaultHit {
  faultId: number;
  method: string;
  path: string;
  status: FaultStatus | null;
  retryAfter: number | null;
  latencyMs: number;
  at: Date;
}

export const FAULT_METHODS = ["*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;

/** Checks what a schema cannot (cross-field rules); returns the fault to store. */
export function validateApiFault(
  orgId: number,
  input: ApiFaultInput,
  tokenId: number | null,
  now: Date,
): NewApiFault {
  const method = (input.method ?? "*").toUpperCase();
  if (!(FAULT_METHODS as readonly string[]).includes(method)) {
    throw new DomainError("validation_failed", `method must be one of ${FAULT_METHODS.join(", ")}, got "${input.method}"`, {
      field: "method",
    });
  }
  if (!input.path.startsWith("/")) {
    throw new DomainError("validation_failed", `path must start with "/", got "${input.path}"`, { field: "path" });
  }
  const status = input.status ?? null;
  if (status !== null && !(FAULT_STATUSES as readonly number[]).includes(status)) {
    throw new DomainError("validation_failed", `status must be one of ${FAULT_STATUSES.join(", ")}, got ${status}`, {
      field: "status",
    });
  }
  const latencyMs = input.latencyMs ?? 0;
  if (status === null && latencyMs === 0) {
    throw new DomainError("validation_failed", "a fault needs a status, a latency_ms, or both", { field: "status" });
  }
  if (input.retryAfter !== undefined && status !== 429 && status !== 503) {
    throw new DomainError("validation_failed", "retry_after only goes with status 429 or 503", { field: "retry_after" });
  }
  return {
    orgId,
    method,
    path: input.path,
    tokenId,
    status: status as FaultStatus | null,
    retryAfter: input.retryAfter ?? (status === 429 ? 1 : null),
    latencyMs,
    count: input.count ?? null,
    fraction: input.fraction ?? 1,
    createdAt: now,
  };
}

const patternCache = new Map<string, RegExp>();

/** `*` is one path segment (or part of one), `**` any run of characters; the rest is literal. */
export function pathPatternRegExp(pattern: string): RegExp {
  let regexp = patternCache.get(pattern);
  if (!regexp) {
    const source = pattern
      .split("**")
      .map((part) =>
        part
          .split("*")
          .map((literal) => literal.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
          .join("[^/]*"),
      )
      .join(".*");
    regexp = new RegExp(`^${source}/?$`);
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(pattern, regexp);
  }
  return regexp;
}

export function faultMatches(fault: ApiFault, method: string, path: string, tokenId: number): boolean {
  if (fault.count !== null && fault.hits >= fault.count) return false;
  if (fault.method !== "*" && fault.method !== method) return false;
  if (fault.tokenId !== null && fault.tokenId !== tokenId) return false;
  return pathPatternRegExp(fault.path).test(path);
}

export function isFaultActive(fault: ApiFault): boolean {
  return fault.count === null || fault.hits < fault.count;
}
