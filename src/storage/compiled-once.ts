import {
  createQueryId,
  sql,
  SqliteAdapter,
  type Compilable,
  type CompiledQuery,
  type Expression,
  type Kysely,
  type QueryResult,
  type SqlBool,
} from "kysely";
import type { Database } from "./schema.ts";

/** Stands in for the argument named `name` while a query is built and compiled once. */
class Slot {
  constructor(readonly name: string) {}
}

interface Compiled<Row> {
  query: CompiledQuery<Row>;
  /** For each parameter of the compiled query: the argument it takes, or undefined for a constant. */
  sources: (string | undefined)[];
  /** SQLite binds no arrays: a list argument (anyOf) travels as JSON text there. */
  listsAsJson: boolean;
}

const isSqlite = (db: Kysely<Database>): boolean => db.getExecutor().adapter instanceof SqliteAdapter;

/**
 * A query of fixed shape, built and compiled by Kysely once per database (per dialect
 * adapter) instead of at every call: building the operation tree and compiling it to SQL
 * costs more than SQLite takes to run a small indexed query from its statement cache
 * (statement-cache.ts), and the send path runs a couple of dozen. `build` is called once,
 * with placeholders in place of the named arguments (`args.orgId`); each call then runs the
 * same SQL with the arguments in their places.
 *
 * Only for queries whose SQL does not depend on the arguments' values: no optional clauses,
 * no argument inspected or converted while building (a placeholder is not a value: convert
 * before the call), and lists only through `anyOf`. Constants
 * written in `build` stay as compiled. They stay bound parameters, though: write a LIMIT
 * as `sql.lit(n)`, since SQLite plans with a bound LIMIT's value and so prepares the
 * statement again at every execution.
 */
export function compiledOnce<Args extends Record<string, unknown>, Row>(
  build: (db: Kysely<Database>, args: Args) => Compilable<Row>,
): (db: Kysely<Database>, args: Args) => Promise<QueryResult<Row>> {
  const byAdapter = new WeakMap<object, Compiled<Row>>();
  return (db, args) => {
    const adapter = db.getExecutor().adapter;
    let compiled = byAdapter.get(adapter);
    if (!compiled) {
      const placeholders = new Proxy({}, { get: (_, name) => new Slot(String(name)) }) as Args;
      const query = build(db, placeholders).compile();
      const sources = query.parameters.map((p) => (p instanceof Slot ? p.name : undefined));
      compiled = { query, sources, listsAsJson: isSqlite(db) };
      byAdapter.set(adapter, compiled);
    }
    const { query, sources, listsAsJson } = compiled;
    const parameters = sources.map((name, i) => {
      if (name === undefined) return query.parameters[i];
      const value = args[name];
      return listsAsJson && Array.isArray(value) ? JSON.stringify(value) : value;
    });
    return db.executeQuery<Row>({ ...query, parameters, queryId: createQueryId() });
  };
}

/**
 * The same for a query with a few shapes (optional filters, a sort direction): one compiled
 * query per `variant`, a string naming the shape, which `build` turns into the clauses.
 */
export function compiledPerVariant<Variant extends string, Args extends Record<string, unknown>, Row>(
  build: (db: Kysely<Database>, args: Args, variant: Variant) => Compilable<Row>,
): (db: Kysely<Database>, variant: Variant, args: Args) => Promise<QueryResult<Row>> {
  const variants = new Map<Variant, (db: Kysely<Database>, args: Args) => Promise<QueryResult<Row>>>();
  return (db, variant, args) => {
    let run = variants.get(variant);
    if (!run) {
      run = compiledOnce<Args, Row>((d, a) => build(d, a, variant));
      variants.set(variant, run);
    }
    return run(db, args);
  };
}

/**
 * `column` equal to one of the values of a list argument, in one SQL text whatever the
 * list's length (so it compiles once and stays one prepared statement): `= any($1)` with an
 * array on Postgres, `in (select value from json_each(?))` with the list as JSON on SQLite
 * (compiledOnce converts it). The list must not be empty (callers answer that without asking).
 */
export function anyOf(db: Kysely<Database>, column: string, list: unknown): Expression<SqlBool> {
  return isSqlite(db)
    ? sql<SqlBool>`${sql.ref(column)} in (select value from json_each(${list}))`
    : sql<SqlBool>`${sql.ref(column)} = any(${list})`;
}
