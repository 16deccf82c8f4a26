import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { FastifyPluginAsync } from "fastify";
import type { CoreDeps } from "../../core/deps.ts";
import { toStreamActivity } from "./presenters.ts";
import { openEventStream } from "../event-stream.ts";

/** Comment lines keep proxies and the browser from treating a quiet stream as dead. */
const HEARTBEAT_MS = 15_000;
/** How soon EventSource reconnects after the stream drops (a restart takes about a second). */
const RECONNECT_MS = 1_000;

/**
 * GET /openlinq/v1/stream: Server-Sent Events carrying the org's Activity, one connection
 * per inbox page. The token may come as `?token=` because EventSource cannot set headers.
 *
 * Events: `hello` once on connect (`{server_id}`: a new id means the server restarted),
 * then unnamed `message` events, one per Activity. Best-effort by design: what was missed
 * while disconnected is recovered by the page reloading its views on every (re)connect,
 * not by replay.
 */
export const streamRoutes: FastifyPluginAsync<{ deps: CoreDeps }> = async (app, { deps }) => {
  const serverId = randomUUID();
  const open = new Set<ServerResponse>();

  // Open streams would keep close() waiting forever; end them first so shutdown is prompt
  // (and the browsers reconnect to whatever starts next).
  app.addHook("preClose", async () => {
    for (const response of open) response.end();
    open.clear();
  });

  app.get(
    "/stream",
    {
      schema: {
        tags: ["Inbox"],
        summary: "Live activity of your organization as Server-Sent Events (token as ?token= or header)",
        querystring: { type: "object", properties: { token: { type: "string" } } },
        produces: ["text/event-stream"],
      },
    },
    async (request, reply) => {
      const { orgId } = request.caller;
      const response = openEventStream(reply);
      response.write(`retry: ${RECONNECT_MS}\nevent: hello\ndata: ${JSON.stringify({ server_id: serverId })}\n\n`);
      open.add(response);

      const unsubscribe = deps.activity.subscribe(orgId, (activity) => {
        response.write(`data: ${JSON.stringify(toStreamActivity(activity))}\n\n`);
      });
      // Network keep-alive, not product time: it stays on the wall clock even under a virtual clock.
      const heartbeat = setInterval(() => response.write(": ping\n\n"), HEARTBEAT_MS);
      heartbeat.unref();

      const stop = () => {
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(response);
      };
      request.raw.on("close", stop);
      response.on("close", stop);
    },
  );
};
