import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { StorageHandle } from "./database.ts";

/** One budget: `points` per `duration` seconds per key, keys namespaced by `keyPrefix`. */
export interface RateLimitBudget {
  keyPrefix: string;
  points: number;
  duration: number;
}

/** Makes the limiter of one budget (see createRateLimiter in src/http/plugins). */
export type RateLimiterFactory = (budget: RateLimitBudget) => RateLimiterAbstract;

/**
 * Where per-token budgets are counted. SQLite: this process's memory (one node). Postgres:
 * the `rate_limits` table (rate-limiter-flexible's Postgres store, one atomic upsert per
 * request on the pool), so every node on the database draws from one budget per token.
 * Keys over budget are then held in this node's memory until their window ends, so a
 * client hammering past its limit costs no further queries; and should a query fail, the
 * node falls back to a memory budget of its own rather than refusing or failing requests.
 */
export function rateLimiterFactory(storage: StorageHandle): RateLimiterFactory {
  const pool = storage.pool;
  if (storage.dialect !== "postgres" || !pool) return (budget) => new RateLimiterMemory(budget);
  return (budget) =>
    new RateLimiterPostgres({
      ...budget,
      storeClient: pool,
      storeType: "pool",
      // Created by the rate-limits migration, in the schema the pool's search_path names.
      tableName: "rate_limits",
      tableCreated: true,
      inMemoryBlockOnConsumed: budget.points + 1,
      insuranceLimiter: new RateLimiterMemory(budget),
    });
}
