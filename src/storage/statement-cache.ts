import type { SqliteDatabase, SqliteStatement } from "kysely";

/** Distinct SQL texts kept prepared; `in (?, ?, …)` lists of every length make the set open-ended. */
export const MAX_CACHED_STATEMENTS = 500;

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs as much as running a
 * small indexed query (SQLite parses and plans it each time), and the send path runs about
 * a dozen. This hands Kysely one prepared statement per SQL text instead, least recently
 * used dropped first.
 *
 * Safe because Kysely's SQLite driver runs one query at a time on its single connection
 * (a mutex, held for a whole transaction and for a whole stream), so a statement is never
 * in use twice at once; and SQLite re-prepares a statement by itself after a schema change.
 */
export function withStatementCache(database: SqliteDatabase, maxStatements = MAX_CACHED_STATEMENTS): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close() {
      statements.clear();
      database.close();
    },
    prepare(sql: string): SqliteStatement {
      const cached = statements.get(sql);
      if (cached) {
        // Re-insert: Map order is the recency order.
        statements.delete(sql);
        statements.set(sql, cached);
        return cached;
      }
      const statement = database.prepare(sql);
      if (statements.size >= maxStatements) statements.delete(statements.keys().next().value!);
      statements.set(sql, statement);
      return statement;
    },
  };
}
