import type SQLite from "better-sqlite3";
import { CompiledQuery, type Kysely, type SqliteDatabase, type SqliteStatement } from "kysely";
import type { Database } from "./schema.ts";

/**
 * A token of what the store holds, read with one small query. The promise kept: when two
 * reads of it, at times t0 and t1, give the same token, no write was committed between t0
 * and t1 by anyone — this process, another process on the same file or database (a separate
 * `openlinq worker`), or another node. Equal tokens therefore mean every query run between
 * t0 and t1 saw the state of t0, which is what lets a page computed after t0 be answered
 * again, unchanged, at t1 (src/http/plugins/read-cache.ts). A changed token says nothing:
 * it may change without a visible write (a rolled-back transaction, another schema's commit).
 */
export type ReadVersion = () => Promise<string>;

/**
 * SQLite: `PRAGMA data_version` changes when another connection (another process) commits
 * to the file, but not for this connection's own commits; those are counted here, one per
 * executed statement that may write (better-sqlite3's `readonly` is SQLite's own verdict on
 * the statement; transaction control counts as read-only).
 *
 * Both are read synchronously, without waiting for Kysely's connection: a read inside a
 * transaction of this process still in progress is safe, because the queries of whoever
 * asked wait for that transaction to end (Kysely's mutex), and it can only end with a
 * commit or a rollback that writes nothing more (or the count moves and the token with it).
 * So the answer computed after such a token shows the state the token is next seen in.
 */
export function countWrites(database: SqliteDatabase): { database: SqliteDatabase; writes(): number } {
  let writes = 0;
  return {
    database: {
      close: () => database.close(),
      prepare(sql: string): SqliteStatement {
        const statement = database.prepare(sql);
        if ((statement as { readonly?: boolean }).readonly === true) return statement;
        return {
          reader: statement.reader,
          all(parameters) {
            writes += 1;
            return statement.all(parameters);
          },
          run(parameters) {
            writes += 1;
            return statement.run(parameters);
          },
          iterate(parameters) {
            writes += 1;
            return statement.iterate(parameters);
          },
        };
      },
    },
    writes: () => writes,
  };
}

export function sqliteReadVersion(database: SQLite.Database, writes: () => number): ReadVersion {
  const dataVersion = database.prepare("pragma data_version").pluck();
  return async () => `${dataVersion.get() as number}.${writes()}`;
}

/**
 * Postgres: the current snapshot (`xmin:xmax:in-progress ids`). Two equal snapshots have
 * the same set of completed transactions (xmax is one past the newest completed one, and a
 * transaction still running at the first read is listed until it ends), and transactions
 * only ever complete, so equal snapshots at t0 and t1 mean nothing committed in between, on
 * any node or database of the cluster. Snapshots are cluster-wide: a commit elsewhere also
 * changes the token, which costs a recomputation, never a stale answer.
 */
const SNAPSHOT = CompiledQuery.raw("select pg_current_snapshot()::text as snapshot");

export function postgresReadVersion(db: Kysely<Database>): ReadVersion {
  return async () => {
    const { rows } = await db.executeQuery<{ snapshot: string }>(SNAPSHOT);
    return rows[0]!.snapshot;
  };
}
