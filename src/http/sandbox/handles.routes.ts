import type { FastifyPluginAsync } from "fastify";
import { deviceSignals } from "../../core/devices/device-signals.service.ts";
import type { SimulatorDeps } from "../../transport/simulator/ports.ts";
import { MAGIC_NUMBERS } from "../../transport/simulator/profiles/magic-numbers.ts";
import type { HandleProfile } from "../../transport/simulator/profiles/profile.ts";
import { parseProfileChanges } from "../../transport/simulator/profiles/profile-input.ts";
import { getProfile, listStoredProfiles, resetProfile, updateProfile } from "../../transport/simulator/profiles/profiles.service.ts";
import { errorResponses } from "../v2/schemas.ts";
import { toWireProfile } from "./presenters.ts";
import { handleParam, profileInputSchema, profileSchema } from "./schemas.ts";

/** Profiles of simulated devices: GET/PUT/DELETE /openlinq/v1/handles/{handle}. */
export const handleRoutes: FastifyPluginAsync<{ deps: SimulatorDeps }> = async (app, { deps }) => {
  const errors = (...statuses: number[]) => errorResponses("render", statuses);
  const one = { type: "object", properties: { data: profileSchema } } as const;
  const withDevice = async (orgId: number, profile: HandleProfile) =>
    toWireProfile(profile, await deviceSignals(deps, orgId, profile.handle));

  app.get(
    "/handles",
    {
      schema: {
        tags: ["Simulator"],
        summary: "List the handles whose profile your organization stored (every other handle has its defaults)",
        response: { 200: { type: "object", properties: { data: { type: "array", items: profileSchema } } }, ...errors() },
      },
    },
    async (request) => ({ data: (await listStoredProfiles(deps, request.caller.orgId)).map((p) => toWireProfile(p)) }),
  );

  app.get(
    "/magic_numbers",
    {
      schema: {
        tags: ["Simulator"],
        summary: "Numbers with built-in behaviours (unreachable, SMS only, echo bot, …), no setup needed",
        response: {
          200: {
            type: "object",
            properties: {
              data: {
                type: "array",
                items: {
                  type: "object",
                  properties: { handle: { type: "string" }, name: { type: "string" }, description: { type: "string" } },
                },
              },
            },
          },
          ...errors(),
        },
      },
    },
    async () => ({ data: MAGIC_NUMBERS.map(({ handle, name, description }) => ({ handle, name, description })) }),
  );

  app.get<{ Params: { handle: string } }>(
    "/handles/:handle",
    {
      schema: {
        tags: ["Simulator"],
        summary: "A simulated device: its profile in force and what it shows right now",
        params: handleParam,
        response: { 200: one, ...errors(422) },
      },
    },
    async (request) => {
      const { orgId } = request.caller;
      return { data: await withDevice(orgId, await getProfile(deps, orgId, request.params.handle)) };
    },
  );

  app.put<{ Params: { handle: string }; Body: Record<string, unknown> }>(
    "/handles/:handle",
    {
      schema: {
        tags: ["Simulator"],
        summary: "Set a device's profile; fields left out keep their value, and a script starts over",
        params: handleParam,
        body: profileInputSchema,
        response: { 200: one, ...errors(400, 422) },
      },
    },
    async (request) => {
      const { orgId } = request.caller;
      const changes = parseProfileChanges(request.body ?? {});
      return { data: await withDevice(orgId, await updateProfile(deps, orgId, request.params.handle, changes)) };
    },
  );

  app.delete<{ Params: { handle: string } }>(
    "/handles/:handle",
    {
      schema: {
        tags: ["Simulator"],
        summary: "Forget a stored profile: the handle behaves as its magic number or the defaults again",
        params: handleParam,
        response: { 200: one, ...errors(422) },
      },
    },
    async (request) => {
      const { orgId } = request.caller;
      return { data: await withDevice(orgId, await resetProfile(deps, orgId, request.params.handle)) };
    },
  );
};
