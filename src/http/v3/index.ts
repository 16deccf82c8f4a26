import type { FastifyPluginAsync } from "fastify";
import type { CoreDeps } from "../../core/deps.ts";
import type { ApiFaults } from "../../core/faults/api-faults.service.ts";
import { acceptEmptyJsonBodies } from "../empty-json-bodies.ts";
import { createFaultInjector } from "../plugins/faults.ts";
import { registerV3Errors, renderV3Problem, traceIdOf } from "./errors.ts";
import { attachmentRoutes } from "./attachments.routes.ts";
import { chatRoutes } from "./chats.routes.ts";
import { messageRoutes } from "./messages.routes.ts";
import { phoneNumberRoutes } from "./phone-numbers.routes.ts";
import { webhookRoutes } from "./webhook-subscriptions.routes.ts";

export interface V3Options {
  deps: CoreDeps;
  faults: ApiFaults;
  /** Where the server is reachable (links it hands out: upload URLs, vCards). */
  baseUrl: () => string;
}

/**
 * The V3 face (`/api/partner/v3`): `Authorization: Bearer` on every route, the V3 error
 * envelope, and an X-Trace-ID header on every response (errors and 202 bodies repeat it).
 */
export const v3Api: FastifyPluginAsync<V3Options> = async (app, { deps, faults, baseUrl }) => {
  app.addHook("onRequest", async (_request, reply) => {
    traceIdOf(reply);
  });
  registerV3Errors(app);
  acceptEmptyJsonBodies(app);
  app.addHook("onRequest", app.auth.authenticate(["bearer"]));
  app.addHook("onRequest", createFaultInjector(faults, renderV3Problem));
  app.addHook("onRequest", app.auth.rateLimit);
  await app.register(chatRoutes, { deps });
  await app.register(messageRoutes, { deps });
  await app.register(phoneNumberRoutes, { deps, baseUrl });
  await app.register(attachmentRoutes, { deps, baseUrl });
  await app.register(webhookRoutes, { deps });
};
