import type { FastifyPluginAsync } from "fastify";
import { DomainError } from "../../core/errors.ts";
import { errorResponses } from "../v2/schemas.ts";
import { MAX_ADVANCE_MS } from "../../clock/virtual-clock.ts";
import type { SandboxClock } from "./index.ts";

/**
 * The clock: GET /openlinq/v1/clock, and POST /openlinq/v1/clock/advance under
 * OPENLINQ_CLOCK=virtual. The clock is the server's, not an organization's: any token moves it.
 */
export const clockRoutes: FastifyPluginAsync<{ clock: SandboxClock }> = async (app, { clock }) => {
  const errors = (...statuses: number[]) => errorResponses("render", statuses);
  const clockData = {
    type: "object",
    properties: {
      mode: { type: "string", enum: ["system", "virtual"] },
      now: { type: "string", format: "date-time" },
      pending_timers: { type: "integer", description: "Timers (simulator actions, webhook retries) waiting to fire" },
      random_seed: { type: "integer", description: "Seed of the simulator's random source (OPENLINQ_RANDOM_SEED)" },
    },
  } as const;

  const present = (fired?: number) => ({
    data: {
      mode: clock.mode,
      now: clock.now().toISOString(),
      pending_timers: clock.pendingTimers(),
      random_seed: clock.randomSeed,
      ...(fired === undefined ? {} : { fired }),
    },
  });

  app.get(
    "/clock",
    {
      schema: {
        tags: ["Simulator"],
        summary: "The server's clock: mode, current time, pending timers, random seed",
        response: { 200: { type: "object", properties: { data: clockData } }, ...errors() },
      },
    },
    async () => present(),
  );

  app.post<{ Body: { ms?: number; to?: string } }>(
    "/clock/advance",
    {
      schema: {
        tags: ["Simulator"],
        summary: "Move the virtual clock forward by `ms` or to `to`, firing everything due on the way, in order",
        description:
          "Only with OPENLINQ_CLOCK=virtual (409 otherwise). Answers once every simulator action and webhook delivery due " +
          "on the way has run; `{\"ms\": 0}` runs what is due now.",
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            ms: { type: "integer", minimum: 0, maximum: MAX_ADVANCE_MS },
            to: { type: "string", format: "date-time" },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              data: { ...clockData, properties: { ...clockData.properties, fired: { type: "integer", description: "Timers fired" } } },
            },
          },
          ...errors(400, 409, 422),
        },
      },
    },
    async (request) => {
      const { ms, to } = request.body ?? {};
      if (!clock.advanceBy || !clock.advanceTo) {
        throw new DomainError(
          "conflict",
          "The clock is the system clock; start openlinq with OPENLINQ_CLOCK=virtual to move time by hand",
        );
      }
      if ((ms === undefined) === (to === undefined)) {
        throw new DomainError("bad_request", "send exactly one of ms (milliseconds to move forward) or to (a date-time)", { field: "ms" });
      }
      const result = ms !== undefined ? await clock.advanceBy(ms) : await clock.advanceTo(new Date(to!));
      return present(result.fired);
    },
  );
};
