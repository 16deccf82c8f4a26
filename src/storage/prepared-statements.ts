import type pg from "pg";
import type { PostgresPool, PostgresPoolClient } from "kysely";

/** Named statements kept per connection; texts past this many run unnamed (parsed and planned each time). */
export const MAX_PREPARED_PER_CONNECTION = 256;
/**
 * Statements with more parameters run unnamed: they are batch statements (multi-row
 * inserts, long `in (…)` lists) whose text changes with the batch size, so naming them
 * would fill a connection's names with one-off variants.
 */
export const MAX_PARAMETERS_TO_PREPARE = 32;

export interface PreparingPool extends PostgresPool {
  /**
   * Starts naming statements. Called once migrations are done: a statement prepared before
   * a table changes shape would fail with "cached plan must not change result type".
   */
  enable(): void;
}

/**
 * Kysely's Postgres driver sends every query unnamed, so the server parses and plans it on
 * every execution; for the outbox claim (a locking subquery and scalar subqueries in
 * RETURNING) planning costs as much as running it. This pool hands Kysely clients that
 * send each SQL text seen twice on a connection as a named prepared statement, which
 * Postgres parses once per connection and, after a few runs, plans once (its generic
 * plan). Texts seen once (an `in (…)` list of an unusual length) and batch statements
 * (more than MAX_PARAMETERS_TO_PREPARE parameters) stay unnamed, and a connection names at
 * most MAX_PREPARED_PER_CONNECTION texts, so server memory is bounded.
 * Cursors (streams) pass through unchanged.
 *
 * Limit: a migration applied by another process while this one runs can make a prepared
 * `select *` of a changed table fail ("cached plan must not change result type") until this
 * process restarts; upgrade by stopping old instances before `openlinq migrate`, as any
 * change of schema under running code requires.
 */
export function withPreparedStatements(pool: pg.Pool, maxPerConnection = MAX_PREPARED_PER_CONNECTION): PreparingPool {
  let enabled = false;
  let nextName = 0;
  // Kysely keeps one connection object per client it is handed, so each pg client keeps one wrapper.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();

  function wrap(client: pg.PoolClient): PostgresPoolClient {
    /** SQL text → statement name once named, or the number of times seen. */
    const seen = new Map<string, string | number>();
    let named = 0;
    const query = (text: unknown, parameters?: readonly unknown[]): unknown => {
      if (!enabled || typeof text !== "string" || (parameters?.length ?? 0) > MAX_PARAMETERS_TO_PREPARE) {
        return client.query(text as never, parameters as never);
      }
      const entry = seen.get(text);
      if (typeof entry === "string") return client.query({ name: entry, text, values: parameters as unknown[] });
      if (entry === undefined) {
        // Bounded: forgetting a text only delays its naming.
        if (seen.size >= 4 * maxPerConnection) {
          for (const [key, value] of seen) if (typeof value === "number") seen.delete(key);
        }
        seen.set(text, 1);
      } else if (named < maxPerConnection) {
        const name = `openlinq_${(nextName += 1)}`;
        named += 1;
        seen.set(text, name);
        return client.query({ name, text, values: parameters as unknown[] });
      }
      return client.query(text, parameters as unknown[]);
    };
    return {
      query: query as PostgresPoolClient["query"],
      release: (destroy?: boolean) => client.release(destroy),
    };
  }

  return {
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        wrapper = wrap(client);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
    enable() {
      enabled = true;
    },
  };
}
