import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import pg from "pg";
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type SqliteDatabase } from "kysely";
import type { StorageConfig } from "../config/config.ts";
import type { Database } from "./schema.ts";
import { migrationProvider, type MigrationDialect } from "./migrations/index.ts";
import { withPreparedStatements } from "./prepared-statements.ts";
import { withStatementCache } from "./statement-cache.ts";
import { withRowObjects } from "./row-objects.ts";
import { countWrites, postgresReadVersion, sqliteReadVersion, type ReadVersion } from "./read-version.ts";
import { ensurePrivateFile, tightenPrivateFile } from "./private-files.ts";

// COUNT(*) and other int8 values come back from pg as strings; every count we make fits a double.
pg.types.setTypeParser(20, (value) => Number(value));

export interface StorageHandle {
  readonly db: Kysely<Database>;
  readonly dialect: MigrationDialect;
  /**
   * The pg pool when on Postgres: Kysely's queries, the notification bus's LISTEN connection
   * and the per-token rate limits (rate-limit-store.ts) all draw from it.
   */
  readonly pool?: pg.Pool;
  migrate(): Promise<string[]>;
  /**
   * Readiness: answers whether the database is reachable and has every migration this code
   * knows (one small query). Returns the problems found; empty means ready.
   */
  checkReady(): Promise<string[]>;
  /**
   * Postgres: registers this process as a node of the database (schema) for as long as it
   * runs, holding an advisory lock on a connection of its own: `shared` for an ordinary
   * node, `exclusive` for one that must be the only one (the virtual clock). Resolves with
   * false when the other kind holds it. SQLite: always true (no cross-process check).
   */
  joinNodes(mode: "shared" | "exclusive"): Promise<boolean>;
  /** The store's version token: unchanged only while nothing is committed (see read-version.ts). */
  readonly readVersion: ReadVersion;
  /** Connection pool usage (Postgres); undefined on SQLite's single connection. */
  poolStats(): { max: number; total: number; idle: number; waiting: number } | undefined;
  destroy(): Promise<void>;
}

export function openStorage(config: StorageConfig): StorageHandle {
  if (config.kind === "sqlite") {
    if (config.file !== ":memory:") {
      mkdirSync(dirname(config.file), { recursive: true, mode: 0o700 });
      // Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the
      // database file's mode. Files from earlier versions (0644) are tightened here.
      ensurePrivateFile(config.file);
      for (const suffix of ["-wal", "-shm"]) tightenPrivateFile(config.file + suffix);
    }
    const database = new SQLite(config.file);
    database.pragma("journal_mode = WAL");
    // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose
    // the last transactions. That is the usual trade for an embedded server.
    database.pragma("synchronous = NORMAL");
    database.pragma("foreign_keys = ON");
    database.pragma("busy_timeout = 5000");
    const rows = withRowObjects(database);
    const counted = countWrites(rows);
    const db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: withImmediateTransactions(withStatementCache(counted.database)) }),
    });
    return makeHandle(db, "sqlite", sqliteReadVersion(database, counted.writes), undefined, undefined, () => rows.enable());
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: 10,
    ...(config.schema ? { options: `-c search_path=${config.schema}` } : {}),
  });
  const preparing = withPreparedStatements(pool);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparing }) });
  const dedicated = () =>
    new pg.Client({ connectionString: config.url, ...(config.schema ? { options: `-c search_path=${config.schema}` } : {}) });
  return makeHandle(db, "postgres", postgresReadVersion(db), pool, config.schema, () => preparing.enable(), dedicated);
}

/**
 * Kysely begins SQLite transactions with a deferred `begin`: the write lock is taken at the
 * first write. When another process (`openlinq worker` beside `serve --no-worker`) commits
 * between a transaction's first read and its first write, SQLite cannot upgrade the stale
 * snapshot and fails at once with SQLITE_BUSY ("database is locked"), busy_timeout or not.
 * `begin immediate` takes the write lock up front, so such a transaction waits its turn.
 * Within one process nothing changes: Kysely already runs one transaction at a time.
 */
function withImmediateTransactions(database: SqliteDatabase): SqliteDatabase {
  return {
    close: () => database.close(),
    prepare: (text: string) => database.prepare(text === "begin" ? "begin immediate" : text),
  };
}

function makeHandle(
  db: Kysely<Database>,
  dialect: MigrationDialect,
  readVersion: ReadVersion,
  pool?: pg.Pool,
  schema?: string,
  onMigrated?: () => void,
  dedicated?: () => pg.Client,
): StorageHandle {
  let nodeLock: pg.Client | undefined;
  return {
    db,
    dialect,
    readVersion,
    ...(pool ? { pool } : {}),
    async migrate() {
      const run = async () => {
        if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
        // Kysely looks for its bookkeeping tables in every schema unless told which one; with
        // a second openlinq schema in the same database it would skip creating its own.
        const migrator = new Migrator({
          db,
          provider: migrationProvider(dialect),
          ...(schema ? { migrationTableSchema: schema } : {}),
        });
        const { error, results } = await migrator.migrateToLatest();
        if (error) throw error;
        return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
      };
      const applied = await (pool ? withMigrationLock(pool, run) : run());
      onMigrated?.();
      return applied;
    },
    async joinNodes(mode) {
      if (!dedicated) return true;
      if (nodeLock) throw new Error("joinNodes called twice");
      const client = dedicated();
      // A lost connection releases the lock; nothing to do but say so.
      client.on("error", () => undefined);
      await client.connect();
      const fn = mode === "exclusive" ? "pg_try_advisory_lock" : "pg_try_advisory_lock_shared";
      // One key per schema: nodes of other schemas in the same database do not count.
      const { rows } = await client.query<{ ok: boolean }>(
        `select ${fn}(${NODE_LOCK_CLASS}, hashtext(current_schema())) as ok`,
      );
      if (!rows[0]?.ok) {
        await client.end().catch(() => undefined);
        return false;
      }
      nodeLock = client;
      return true;
    },
    poolStats() {
      if (!pool) return undefined;
      return { max: pool.options.max, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
    },
    async checkReady() {
      const known = Object.keys(await migrationProvider(dialect).getMigrations());
      let applied: Set<string>;
      try {
        // Kysely's bookkeeping table; on Postgres it lives in our schema, which search_path names.
        const rows = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
        applied = new Set(rows.rows.map((row) => row.name));
      } catch (error) {
        return [`database not reachable or not migrated: ${(error as Error).message}`];
      }
      const missing = known.filter((name) => !applied.has(name));
      return missing.length > 0 ? [`migrations not applied: ${missing.join(", ")}`] : [];
    },
    async destroy() {
      await nodeLock?.end().catch(() => undefined);
      nodeLock = undefined;
      await db.destroy();
    },
  };
}

/** First half of the node lock's two-part advisory key (the second is the schema's hash). */
const NODE_LOCK_CLASS = 73_625;

/**
 * Kysely's migrator introspects every schema of the database, and that introspection fails
 * when another schema is dropped at the same moment. Instances starting together, and
 * schema drops (dropPostgresSchema), therefore take one database-wide advisory lock.
 */
const MIGRATION_LOCK_KEY = 7_362_510_001;

async function withMigrationLock<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    return await work(client);
  } finally {
    await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}

/** Drops an openlinq schema and everything in it (tests and benchmarks clean up with this). */
export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await withMigrationLock(pool, async (client) => {
      await client.query(`drop schema if exists "${schema.replace(/"/g, '""')}" cascade`);
    });
  } finally {
    await pool.end();
  }
}

/** True when a write failed on a unique index (SQLite and Postgres spell it differently). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string } | undefined;
  return e?.code === "23505" || e?.code === "SQLITE_CONSTRAINT_UNIQUE" || e?.code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
