import pg from "pg";
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
    /** A `begin` Kysely asked for that waits to travel with the transaction's first statement. */
    let pendingBegin: string | undefined;
    const query = (text: unknown, parameters?: readonly unknown[]): unknown => {
      if (typeof text === "string" && isBegin(text) && pendingBegin === undefined) {
        pendingBegin = text;
        return Promise.resolve(commandOnly("BEGIN"));
      }
      if (pendingBegin !== undefined) {
        const begin = pendingBegin;
        pendingBegin = undefined;
        // Nothing ran: the server never saw the transaction.
        if (text === "commit" || text === "rollback") return Promise.resolve(commandOnly(text.toUpperCase()));
        if (typeof text !== "string") return client.query(begin).then(() => client.query(text as never, parameters as never));
        const values = (parameters ?? []) as unknown[];
        const name = nameFor(text, values);
        return queryAfterBegin(client, begin, name ? { name, text, values } : { text, values });
      }
      const values = parameters as unknown[];
      const name = nameFor(text, values);
      return name ? client.query({ name, text: text as string, values }) : client.query(text as never, values as never);
    };
    /** The name `text` runs under on this connection, once seen often enough; undefined runs it unnamed. */
    const nameFor = (text: unknown, parameters: readonly unknown[] | undefined): string | undefined => {
      if (!enabled || typeof text !== "string" || (parameters?.length ?? 0) > MAX_PARAMETERS_TO_PREPARE) return undefined;
      const entry = seen.get(text);
      if (typeof entry === "string") return entry;
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
        return name;
      }
      return undefined;
    };
    return {
      query: query as PostgresPoolClient["query"],
      release: (destroy?: boolean) => {
        pendingBegin = undefined;
        client.release(destroy);
      },
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

/** Kysely opens a transaction with `begin`, or `start transaction …` when given an isolation level or access mode. */
function isBegin(text: string): boolean {
  return text === "begin" || text.startsWith("start transaction");
}

function commandOnly(command: string): pg.QueryResult {
  return { command, rowCount: null, oid: 0, fields: [], rows: [] };
}

/** What AfterBegin reads of pg's connection (pg-cursor relies on the same). */
interface WireConnection {
  stream: { cork?: () => void; uncork?: () => void };
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  parse(query: { text: string; name?: string }): void;
  bind(config: { portal?: string; statement?: string; values?: unknown[] }): void;
  execute(config: { portal?: string; rows?: number }): void;
}

/**
 * A statement preceded by `begin` in the same write and the same Sync: Parse, Bind and
 * Execute of the `begin`, then the statement as pg sends it. One round trip opens the
 * transaction and runs its first statement, where Kysely's driver spends two; a send runs a
 * few transactions, and on Postgres each round trip costs the server process a socket write,
 * a read and the promise chain around them. The server runs both as it would have: should
 * the statement fail, the transaction is open and aborted, and Kysely rolls it back.
 *
 * pg hands back one result per command here ([begin, statement]); the caller gets the
 * statement's. A named statement not yet parsed on this connection is parsed ahead of the
 * `begin`: pg records a name as parsed at the first ParseComplete of the batch, which must
 * be the statement's own (should its Parse fail, nothing after it runs, `begin` included,
 * and pg forgets the name).
 */
class AfterBegin extends pg.Query {
  private readonly begin: string;

  constructor(begin: string, config: pg.QueryConfig, callback: (error: Error | null, results: unknown) => void) {
    super({ ...config, queryMode: "extended" } as pg.QueryConfig, undefined, callback as never);
    this.begin = begin;
  }

  override submit = (connection: pg.Connection): void => {
    const wire = connection as unknown as WireConnection;
    const { name, text } = this as unknown as { name?: string; text: string };
    wire.stream.cork?.();
    try {
      if (name && wire.parsedStatements[name] === undefined && wire.submittedNamedStatements[name] === undefined) {
        wire.parse({ text, name });
        // pg's own submit then skips the Parse it would have sent.
        wire.submittedNamedStatements[name] = text;
      }
      wire.parse({ text: this.begin });
      wire.bind({});
      wire.execute({});
      return (pg.Query.prototype as unknown as { submit: (c: pg.Connection) => void }).submit.call(this, connection);
    } finally {
      wire.stream.uncork?.();
    }
  };
}

function queryAfterBegin(client: pg.PoolClient, begin: string, config: pg.QueryConfig): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    client.query(
      new AfterBegin(begin, config, (error, results) => {
        if (error) reject(error);
        else resolve((Array.isArray(results) ? results[results.length - 1] : results) as pg.QueryResult);
      }),
    );
  });
}
