import type { FastifyPluginAsync } from "fastify";
import type { Metrics } from "../observability/metrics.ts";

/** One readiness condition; resolves with the problems found (empty: fine). */
export type ReadinessCheck = () => Promise<string[]> | string[];

export interface OpsRoutesOptions {
  metrics: Metrics;
  /** Every check must pass for /readyz to answer 200. */
  readiness: ReadinessCheck[];
}

const statusSchema = {
  type: "object",
  required: ["status"],
  properties: {
    status: { type: "string", enum: ["ok", "unavailable"] },
    problems: { type: "array", items: { type: "string" } },
  },
} as const;

/**
 * Operations endpoints at the root, unauthenticated (the usual convention for probes and
 * scrapers; none of them reveals data of an organization). They are ours, not Linq's, and
 * stay out of the OpenAPI document.
 *
 * - `/healthz`: the process is alive and serving; touches nothing else.
 * - `/readyz`: the database answers, every migration is applied, the worker runs where this
 *   process should run one, and the process is not shutting down. One small query.
 * - `/metrics`: Prometheus text format.
 */
export const opsRoutes: FastifyPluginAsync<OpsRoutesOptions> = async (app, { metrics, readiness }) => {
  app.get(
    "/healthz",
    { schema: { hide: true, response: { 200: statusSchema } } },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    { schema: { hide: true, response: { 200: statusSchema, 503: statusSchema } } },
    async (_request, reply) => {
      const problems = (await Promise.all(readiness.map((check) => check()))).flat();
      if (problems.length > 0) return reply.code(503).send({ status: "unavailable" as const, problems });
      return { status: "ok" as const };
    },
  );

  app.get(
    "/metrics",
    { schema: { hide: true, response: { 200: { type: "string" } } } },
    async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()),
  );
};
