import type { FastifyPluginAsync } from "fastify";
import { ConfigError } from "../../config/config.ts";
import { DomainError } from "../../core/errors.ts";
import type { SimulatorDeps } from "../../transport/simulator/ports.ts";
import { resetSandbox } from "../../transport/simulator/reset.service.ts";
import type { Seed } from "../../transport/simulator/seed.ts";
import { errorResponses } from "../v2/schemas.ts";

export interface ResetOptions {
  deps: SimulatorDeps;
  /** Reads the seed file again (edits apply without a restart); throws ConfigError on problems. */
  loadSeed: () => Seed;
  /** Told before the wipe, so planned simulator actions of the org are dropped. */
  onReset?: (orgId: number) => void;
}

const counts = (keys: string[]) => ({
  type: "object",
  properties: Object.fromEntries(keys.map((k) => [k, { type: "integer" }])),
});

export const resetRoutes: FastifyPluginAsync<ResetOptions> = async (app, { deps, loadSeed, onReset }) => {
  app.post(
    "/reset",
    {
      schema: {
        tags: ["Simulator"],
        summary: "Wipe your organization's chats, messages, contacts, events, profiles and calls, and reload the seed file",
        description: "Organizations, users, tokens, phone numbers and webhook subscriptions stay.",
        response: {
          200: {
            type: "object",
            properties: {
              data: {
                type: "object",
                properties: {
                  deleted: counts(["chats", "messages", "contacts", "events", "profiles", "calls"]),
                  seeded: counts(["profiles", "contacts", "chats", "messages"]),
                },
              },
            },
          },
          ...errorResponses("render", [422]),
        },
      },
    },
    async (request) => {
      const { orgId } = request.caller;
      let seed: Seed;
      try {
        seed = loadSeed();
      } catch (error) {
        if (error instanceof ConfigError) throw new DomainError("validation_failed", `nothing was reset: ${error.problems.join("; ")}`);
        throw error;
      }
      onReset?.(orgId);
      const result = await resetSandbox(deps, orgId, seed);
      return { data: { deleted: result.wiped, seeded: result.seeded } };
    },
  );
};
