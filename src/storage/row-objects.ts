import type SQLite from "better-sqlite3";
import type { SqliteDatabase, SqliteStatement } from "kysely";

type RowObject = (values: unknown[]) => Record<string, unknown>;

/**
 * A function making a row's object from its values, compiled once per statement from its
 * column names: an object literal, which V8 creates with its final shape in one step.
 * Duplicate names behave as when better-sqlite3 builds the object (the last value, at the
 * first name's place).
 */
function rowObjectOf(names: readonly string[]): RowObject {
  const fields = names.map((name, i) => `${JSON.stringify(name)}: values[${i}]`).join(", ");
  return new Function("values", `return { ${fields} };`) as RowObject;
}

/**
 * better-sqlite3 builds each row object in C++ one property at a time, which costs more
 * than reading the row: for a page of 25 messages, about three times what reading them as
 * arrays (its raw mode) costs. This hands Kysely statements that read rows as arrays and
 * turn each into an object with a function made for the statement's columns (rowObjectOf).
 * Kysely and everything after it see the same objects: the same keys in the same order,
 * the same values. Statements that return no rows (and any with a column named
 * `__proto__`, which an object literal would take for the prototype) run unchanged.
 *
 * Lies under the statement cache (statement-cache.ts), so a statement's function is made
 * when the statement is prepared, once per SQL text kept. Starts with `enable()`, once
 * migrations are done: SQLite re-prepares a kept statement after a schema change, and a
 * `select *` may then return other columns. A changed number of columns is noticed (the
 * function is made again); columns renamed by another process while this one runs are not,
 * the same limit as prepared statements on Postgres (stop old instances before `openlinq
 * migrate`).
 */
export function withRowObjects(database: SQLite.Database): SqliteDatabase & { enable(): void } {
  let enabled = false;
  return {
    enable() {
      enabled = true;
    },
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      const statement = database.prepare(sql);
      if (!enabled || !statement.reader) return statement;
      let names = statement.columns().map((column) => column.name);
      if (names.includes("__proto__")) return statement;
      let toObject = rowObjectOf(names);
      statement.raw(true);
      const objectOf = (values: unknown[]) => {
        if (values.length !== names.length) {
          names = statement.columns().map((column) => column.name);
          toObject = rowObjectOf(names);
        }
        return toObject(values);
      };
      return {
        reader: true,
        // Read by countWrites (read-version.ts): a reader may still write (`returning`).
        readonly: statement.readonly,
        all(parameters) {
          const rows = statement.all(parameters) as unknown[][];
          const objects = new Array<Record<string, unknown>>(rows.length);
          for (let i = 0; i < rows.length; i++) objects[i] = objectOf(rows[i]!);
          return objects;
        },
        run: (parameters) => statement.run(parameters),
        *iterate(parameters) {
          for (const values of statement.iterate(parameters) as IterableIterator<unknown[]>) yield objectOf(values);
        },
      } as SqliteStatement;
    },
  };
}
