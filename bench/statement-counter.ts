/**
 * Counts the SQL statements the drivers execute while `counter.counting` is on, for the cost
 * benches (send-cost, list-cost): better-sqlite3's Statement methods and pg's Client.query
 * are wrapped here, at import, so nothing in src/ carries instrumentation. On SQLite it also
 * keeps the CPU time (not wall time: the machine is often shared) spent inside the driver
 * per statement text; pg's work is spread over its socket callbacks, so there is none.
 */
import SQLite from "better-sqlite3";
import pg from "pg";

export const counter = {
  counting: false,
  /** Statement texts in execution order, begin and commit included. */
  executed: [] as string[],
  /** CPU nanoseconds inside better-sqlite3 per statement text. */
  driverNs: new Map<string, number>(),
  reset(): void {
    this.executed.length = 0;
    this.driverNs.clear();
  },
};

function record(text: unknown): void {
  if (counter.counting) counter.executed.push(typeof text === "string" ? text : String((text as { text?: string })?.text ?? text));
}

// better-sqlite3: every execution goes through a Statement's run, get, all or iterate.
const probe = new SQLite(":memory:");
const statementProto = Object.getPrototypeOf(probe.prepare("select 1"));
probe.close();
for (const method of ["run", "get", "all", "iterate"] as const) {
  const original = statementProto[method];
  statementProto[method] = function (this: { source: string }, ...args: unknown[]) {
    record(this.source);
    if (!counter.counting) return original.apply(this, args);
    const started = process.cpuUsage();
    try {
      return original.apply(this, args);
    } finally {
      const used = process.cpuUsage(started);
      counter.driverNs.set(this.source, (counter.driverNs.get(this.source) ?? 0) + (used.user + used.system) * 1000);
    }
  };
}
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  record(args[0]);
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;
