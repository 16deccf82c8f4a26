import type { FastifyPluginAsync } from "fastify";
import type { CoreDeps } from "../../core/deps.ts";
import { createAuthenticator } from "../plugins/auth.ts";
import { createRateLimiter } from "../plugins/rate-limit.ts";
import { availabilityRoutes } from "./availability.routes.ts";
import { chatRoutes } from "./chats.routes.ts";
import { contactRoutes } from "./contacts.routes.ts";
import { messageRoutes } from "./messages.routes.ts";
import { phoneNumberRoutes } from "./phone-numbers.routes.ts";
import { webhookSubscriptionRoutes } from "./webhook-subscriptions.routes.ts";

export interface V2Options {
  deps: CoreDeps;
  rateLimit: { perSecond: number; burst: number };
}

/** The V2 face: every route authenticated by X-LINQ-INTEGRATION-TOKEN and rate limited per token. */
export const v2Api: FastifyPluginAsync<V2Options> = async (app, { deps, rateLimit }) => {
  app.addHook("onRequest", createAuthenticator(deps.store));
  app.addHook("onRequest", createRateLimiter(rateLimit));
  await app.register(chatRoutes, { deps });
  await app.register(messageRoutes, { deps });
  await app.register(contactRoutes, { deps });
  await app.register(phoneNumberRoutes, { deps });
  await app.register(availabilityRoutes, { deps });
  await app.register(webhookSubscriptionRoutes, { deps });
};
