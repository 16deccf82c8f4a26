import type { FastifyInstance } from "fastify";
import type { CoreDeps } from "../../core/deps.ts";
import { inboxRoutes } from "./inbox.routes.ts";
import { streamRoutes } from "./stream.routes.ts";
import { uiRoutes } from "./ui.routes.ts";
import { createUploadStaging, stagedFileRoutes, uploadRoutes } from "./uploads.routes.ts";

export interface InboxOptions {
  deps: CoreDeps;
  /** Where this server is reachable from itself (staged uploads are fetched from there). */
  baseUrl: () => string;
  /** Where the built UI lives (tests and benchmarks may build elsewhere). */
  distDir?: string;
}

/**
 * The web inbox face: the UI at `/`, its reads under /openlinq/v1/inbox/* and the live
 * stream at /openlinq/v1/stream. The browser acts through the V2 API and the sandbox
 * endpoints like any client; nothing here changes a chat.
 *
 * Not rate limited: one person's page makes a handful of reads per change, and a limit
 * here would only hide changes from the person watching.
 */
export function inboxFace(options: InboxOptions) {
  return async (app: FastifyInstance): Promise<void> => {
    const staging = createUploadStaging(options.deps.files);
    app.addHook("onClose", async () => staging.clear());
    await app.register(
      async (api) => {
        // ?token= too: EventSource cannot send headers.
        api.addHook("onRequest", app.auth.authenticate(["integration-header", "bearer", "query"]));
        await api.register(inboxRoutes, { deps: options.deps });
        await api.register(streamRoutes, { deps: options.deps });
        await api.register(uploadRoutes, { staging, baseUrl: options.baseUrl });
      },
      { prefix: "/openlinq/v1" },
    );
    await app.register(stagedFileRoutes, { prefix: "/openlinq/v1", staging });
    await app.register(uiRoutes, options.distDir ? { distDir: options.distDir } : {});
  };
}
