/**
 * Load generation shared by the benchmarks: autocannon in a worker thread (so it does not
 * share the event loop of whatever else the benchmark process runs), figures per run, and
 * medians over rounds.
 */
import autocannon from "autocannon";

export interface Figures {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Errors, timeouts and non-2xx answers: any makes the run's figures invalid. */
  failures: number;
  requests: number;
}

export interface Target {
  url: string;
  method: "GET" | "POST";
  body?: string;
  headers?: Record<string, string>;
}

export async function load(target: Target, options: { connections: number; seconds: number }): Promise<Figures> {
  const result = await autocannon({
    url: target.url,
    method: target.method,
    connections: options.connections,
    duration: options.seconds,
    workers: 1,
    headers: {
      ...target.headers,
      ...(target.body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(target.body !== undefined ? { body: target.body } : {}),
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Per-figure medians of several runs (each figure on its own). */
export function medianFigures(runs: readonly Figures[]): Figures {
  return {
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    failures: runs.reduce((sum, r) => sum + r.failures, 0),
    requests: runs.reduce((sum, r) => sum + r.requests, 0),
  };
}

export const pad = (text: string, width: number) => (width < 0 ? text.padEnd(-width) : text.padStart(width));
