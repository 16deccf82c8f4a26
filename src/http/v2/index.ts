import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import type { CoreDeps } from "../../core/deps.ts";
import type { ApiFaults } from "../../core/faults/api-faults.service.ts";
import { acceptEmptyJsonBodies } from "../empty-json-bodies.ts";
import { createFaultInjector } from "../plugins/faults.ts";
import { nestBracketKeys } from "../plugins/multipart.ts";
import { availabilityRoutes } from "./availability.routes.ts";
import { chatRoutes } from "./chats.routes.ts";
import { contactRoutes } from "./contacts.routes.ts";
import { messageRoutes } from "./messages.routes.ts";
import { phoneNumberRoutes } from "./phone-numbers.routes.ts";
import { registerV2Errors, renderV2Problem } from "./errors.ts";
import { webhookSubscriptionRoutes } from "./webhook-subscriptions.routes.ts";

export interface V2Options {
  deps: CoreDeps;
  faults: ApiFaults;
}

/**
 * The V2 face: every route authenticated by X-LINQ-INTEGRATION-TOKEN (never Bearer) and rate
 * limited per token; errors in V2's envelopes.
 */
export const v2Api: FastifyPluginAsync<V2Options> = async (app, { deps, faults }) => {
  registerV2Errors(app);
  acceptEmptyJsonBodies(app);
  acceptFormBodies(app);
  app.addHook("onRequest", app.auth.authenticate(["integration-header"]));
  // Injected faults answer before the real rate limiter, and never use up its budget.
  app.addHook("onRequest", createFaultInjector(faults, renderV2Problem));
  app.addHook("onRequest", app.auth.rateLimit);
  await app.register(chatRoutes, { deps });
  await app.register(messageRoutes, { deps });
  await app.register(contactRoutes, { deps });
  await app.register(phoneNumberRoutes, { deps });
  await app.register(availabilityRoutes, { deps });
  await app.register(webhookSubscriptionRoutes, { deps });
};

/**
 * Bodies are JSON, multipart, or (like any Rails endpoint) form-urlencoded with the same
 * bracketed keys: `curl -d 'message[text]=hi'` works. Plain text is not a body format of
 * this API, so it answers 415 instead of failing schema validation.
 */
function acceptFormBodies(app: FastifyInstance): void {
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
    try {
      done(null, nestBracketKeys([...new URLSearchParams(body as string)]));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
