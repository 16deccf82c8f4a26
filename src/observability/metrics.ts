import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { OutboundQueueStats } from "../outbound/ports.ts";

/**
 * The Prometheus metrics of one openlinq process (`GET /metrics`, prom-client). Every app
 * gets a registry of its own, so tests and benchmarks can build several in one process;
 * the process metrics (CPU, memory, event loop, GC) are collected once per process and
 * printed with each.
 *
 * Counters and histograms are fed by whoever observes the fact (the HTTP hook, the delivery
 * worker); gauges that describe shared state (the outbox, the pool) are read at scrape time
 * from the `sources`, so a scrape costs a couple of indexed queries and nothing between.
 */
export interface Metrics {
  /** Text exposition format, process metrics included. */
  render(): Promise<string>;
  readonly contentType: string;
  /** One finished HTTP request; `route` is the route's pattern (never the raw URL). */
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  /** Webhook attempts recorded, by what happens next. */
  countAttempt(outcome: AttemptOutcome): void;
  /** Seconds between a delivery falling due and a worker claiming it. */
  observeClaimLag(seconds: number): void;
}

/** succeeded; retrying (a retry is scheduled); failed (for good); skipped (inactive subscription, no request). */
export type AttemptOutcome = "succeeded" | "retrying" | "failed" | "skipped";

export interface OutboxStats {
  /** Deliveries not yet succeeded or failed for good. */
  pending: number;
  /** Of those, how many are due now (waiting for a worker, or in flight). */
  due: number;
  /** When the longest-waiting due delivery fell due; undefined when none is due. */
  oldestDueAt: Date | undefined;
}

export interface PoolStats {
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

export interface MetricSources {
  now(): Date;
  /** Webhook outbox state, read from the database at scrape time. */
  outbox?: (now: Date) => Promise<OutboxStats>;
  /** Database connection pool (Postgres); absent on SQLite's single connection. */
  pool?: () => PoolStats;
  /** The outbound queue (sends, our signals, the simulated network's steps), read at scrape time. */
  outbound?: (now: Date) => Promise<OutboundQueueStats>;
}

/** Buckets for request and claim latencies: 1 ms to 10 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

let processRegistry: Registry | undefined;

/** Process metrics, registered once: each collector arms an event-loop monitor of its own. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export function createMetrics(sources: MetricSources): Metrics {
  /**
   * One query serves the gauges of a scrape that share it: whichever is collected first
   * reads it, the others of the same scrape reuse it. Keyed by scrape, not by time: on
   * SQLite a query can resolve without the event loop turning, so the next scrape may follow
   * before any timer or setImmediate would have cleared it.
   */
  let scrape = 0;
  const onePerScrape = <T>(query: () => Promise<T>): (() => Promise<T>) => {
    let reading: { scrape: number; result: Promise<T> } | undefined;
    return () => {
      if (reading?.scrape !== scrape) reading = { scrape, result: query() };
      return reading.result;
    };
  };
  const registry = new Registry();
  const requests = new Histogram({
    name: "openlinq_http_request_duration_seconds",
    help: "HTTP requests by route pattern, method and status, with their duration (the _count is the request count)",
    labelNames: ["route", "method", "status"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const attempts = new Counter({
    name: "openlinq_webhook_attempts_total",
    help: "Webhook delivery attempts recorded by this process's worker, by outcome",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  for (const outcome of ["succeeded", "retrying", "failed", "skipped"] as const) attempts.inc({ outcome }, 0);
  const claimLag = new Histogram({
    name: "openlinq_webhook_claim_lag_seconds",
    help: "Time from a webhook delivery falling due to a worker of this process claiming it",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  if (sources.outbox) {
    const read = onePerScrape(() => sources.outbox!(sources.now()));
    new Gauge({
      name: "openlinq_outbox_pending_deliveries",
      help: "Webhook deliveries not finished yet (pending), across every process on this database",
      registers: [registry],
      async collect() {
        this.set((await read()).pending);
      },
    });
    new Gauge({
      name: "openlinq_outbox_due_deliveries",
      help: "Pending webhook deliveries that are due now: waiting for a worker or in flight",
      registers: [registry],
      async collect() {
        this.set((await read()).due);
      },
    });
    new Gauge({
      name: "openlinq_outbox_oldest_pending_age_seconds",
      help: "How long the longest-waiting due delivery has been due (0 when nothing is due)",
      registers: [registry],
      async collect() {
        const { oldestDueAt } = await read();
        this.set(oldestDueAt ? Math.max(0, (sources.now().getTime() - oldestDueAt.getTime()) / 1000) : 0);
      },
    });
  }

  if (sources.pool) {
    const pool = sources.pool;
    new Gauge({
      name: "openlinq_db_pool_connections",
      help: "Database pool connections by state (in_use includes the LISTEN connection)",
      labelNames: ["state"] as const,
      registers: [registry],
      collect() {
        const stats = pool();
        this.set({ state: "in_use" }, stats.total - stats.idle);
        this.set({ state: "idle" }, stats.idle);
      },
    });
    new Gauge({
      name: "openlinq_db_pool_max_connections",
      help: "Size limit of the database pool",
      registers: [registry],
      collect() {
        this.set(pool().max);
      },
    });
    new Gauge({
      name: "openlinq_db_pool_waiting_requests",
      help: "Queries waiting for a free pool connection",
      registers: [registry],
      collect() {
        this.set(pool().waiting);
      },
    });
  }

  if (sources.outbound) {
    const read = onePerScrape(() => sources.outbound!(sources.now()));
    new Gauge({
      name: "openlinq_outbound_pending_jobs",
      help: "Outbound jobs still to run (sends, our signals, the simulated network's deliveries, reads and replies), across every process on this database",
      registers: [registry],
      async collect() {
        this.set((await read()).pending);
      },
    });
    new Gauge({
      name: "openlinq_outbound_due_jobs",
      help: "Outbound jobs due now: waiting for a worker or running",
      registers: [registry],
      async collect() {
        this.set((await read()).due);
      },
    });
    new Gauge({
      name: "openlinq_outbound_oldest_due_age_seconds",
      help: "How long the longest-waiting due outbound job has been due (0 when nothing is due)",
      registers: [registry],
      async collect() {
        const { oldestDueAt } = await read();
        this.set(oldestDueAt ? Math.max(0, (sources.now().getTime() - oldestDueAt.getTime()) / 1000) : 0);
      },
    });
    new Gauge({
      name: "openlinq_outbound_failed_jobs",
      help: "Outbound jobs given up on after their last try",
      registers: [registry],
      async collect() {
        this.set((await read()).failed);
      },
    });
  }

  const processes = processMetrics();
  return {
    contentType: registry.contentType,
    async render() {
      scrape += 1;
      const [own, shared] = await Promise.all([registry.metrics(), processes.metrics()]);
      return `${own}\n${shared}`;
    },
    observeRequest(route, method, status, seconds) {
      requests.observe({ route, method, status: String(status) }, seconds);
    },
    countAttempt(outcome) {
      attempts.inc({ outcome });
    },
    observeClaimLag(seconds) {
      claimLag.observe(Math.max(0, seconds));
    },
  };
}
