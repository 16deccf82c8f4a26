import type { ServerResponse } from "node:http";
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import { isoMillis } from "../../core/time.ts";
import type { EventListener } from "../../delivery/ports.ts";
import {
  acknowledgeEvents,
  deleteListener,
  findListener,
  nextEvents,
  openListener,
  parseEventFilter,
  type ForwardableEvent,
  type ListenerDeps,
} from "../../delivery/listeners.service.ts";
import type { ActivityFeed } from "../../core/ports.ts";
import { emptyBody, errorResponses, nullable } from "../v2/schemas.ts";
import { DEFAULT_WEBHOOK_VERSION, WEBHOOK_VERSIONS } from "../v3/webhook-payloads.ts";
import { DomainError } from "../../core/errors.ts";
import { openEventStream } from "../event-stream.ts";

/**
 * /openlinq/v1/listeners: what `openlinq listen` talks to. A listener is a named cursor over
 * the organization's events; its stream (Server-Sent Events) carries each event as a
 * subscription would receive it, and the listener acknowledges positions once its local
 * endpoints answered. Integration-token auth, render_error envelope.
 */

/** Comment lines keep proxies from treating a quiet stream as dead. */
const HEARTBEAT_MS = 15_000;
/**
 * How often an idle stream looks for events (wall clock). Commits on this node wake it at once
 * through the activity feed (other nodes' too, on Postgres); this covers what the feed misses.
 */
const POLL_MS = 500;
/** Events read per query; the stream writes them out before reading more. */
const BATCH = 200;

const dateTime = { type: "string", format: "date-time" } as const;

const listenerSchema = {
  type: "object",
  properties: {
    name: { type: "string" },
    acked_position: { type: "integer", description: "The last event position acknowledged: streams resume after it" },
    acked_at: nullable("string", { format: "date-time" }),
    created_at: dateTime,
  },
} as const;

const nameParams = {
  type: "object",
  required: ["name"],
  properties: { name: { type: "string", description: "Letters, digits, `.`, `_`, `-`; up to 64" } },
} as const;

function toListener(listener: EventListener) {
  return {
    name: listener.name,
    acked_position: listener.ackedPosition,
    acked_at: listener.ackedAt ? isoMillis(listener.ackedAt) : null,
    created_at: isoMillis(listener.createdAt),
  };
}

function toStreamEvent(event: ForwardableEvent) {
  return {
    position: event.position,
    event_id: event.eventId,
    event_type: event.eventType,
    chat_id: event.chatId,
    created_at: isoMillis(event.createdAt),
    headers: event.headers,
    body: event.body,
  };
}

export interface ListenerRoutesOptions {
  listeners: ListenerDeps;
  activity: ActivityFeed;
}

export const listenerRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ListenerRoutesOptions }> = async (app, { listeners: deps, activity }) => {
  app.addHook("onRequest", app.auth.authenticate(["integration-header", "bearer"]));
  const tags = ["openlinq: listen"];
  const errors = (...statuses: number[]) => errorResponses("render", statuses);
  const open = new Set<ServerResponse>();

  // Open streams would hold close() forever; end them so shutdown is prompt (listeners reconnect).
  app.addHook("preClose", async () => {
    for (const response of open) response.end();
    open.clear();
  });

  app.put(
    "/listeners/:name",
    {
      schema: {
        tags,
        summary: "Create a listener, or find it to resume its stream; returns its signing secret",
        description:
          "A new listener's stream starts with the next event; an existing one resumes after the last position it " +
          "acknowledged. `replay_since` moves the cursor to the first event created at or after that time.",
        params: nameParams,
        body: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: { replay_since: { type: "string", format: "date-time" } },
        },
        response: {
          200: {
            type: "object",
            properties: {
              listener: { ...listenerSchema, properties: { ...listenerSchema.properties, secret: { type: "string" } } },
              created: { type: "boolean" },
              last_position: { type: "integer", description: "The newest event position so far" },
            },
          },
          ...errors(400, 422),
        },
      },
    },
    async (request) => {
      const since = request.body?.replay_since;
      const opened = await openListener(deps, request.caller.orgId, request.params.name, {
        replaySince: since === undefined ? undefined : new Date(since),
      });
      return {
        listener: { ...toListener(opened.listener), secret: opened.listener.secret },
        created: opened.created,
        last_position: opened.lastPosition,
      };
    },
  );

  app.get(
    "/listeners",
    {
      schema: {
        tags,
        summary: "The organization's listeners and how far each acknowledged",
        response: { 200: { type: "object", properties: { listeners: { type: "array", items: listenerSchema } } }, ...errors() },
      },
    },
    async (request) => ({ listeners: (await deps.listeners.list(request.caller.orgId)).map(toListener) }),
  );

  app.delete(
    "/listeners/:name",
    {
      schema: { tags, summary: "Forget a listener and its cursor", params: nameParams, response: { 204: emptyBody, ...errors(400, 404) } },
    },
    async (request, reply) => {
      await deleteListener(deps, request.caller.orgId, request.params.name);
      return reply.code(204).send();
    },
  );

  app.post(
    "/listeners/:name/ack",
    {
      schema: {
        tags,
        summary: "Acknowledge every event up to a position (after the local endpoints answered)",
        params: nameParams,
        body: {
          type: "object",
          required: ["position"],
          additionalProperties: false,
          properties: { position: { type: "integer", minimum: 0 } },
        },
        response: { 200: { type: "object", properties: { listener: listenerSchema } }, ...errors(400, 404, 422) },
      },
    },
    async (request) => {
      const listener = await acknowledgeEvents(deps, request.caller.orgId, request.params.name, request.body.position);
      return { listener: toListener(listener) };
    },
  );

  app.get(
    "/listeners/:name/stream",
    {
      schema: {
        tags,
        summary: "The listener's events after its cursor, as Server-Sent Events",
        description:
          "`hello` once (`{acked_position, last_position}`), then one `webhook` event per event " +
          "(`{position, event_id, event_type, chat_id, created_at, headers, body}`: POST `body` with `headers` and " +
          "acknowledge `position` once answered), and `checkpoint` (`{position}`) after events the filter left out, " +
          "which can be acknowledged once everything before it was.",
        params: nameParams,
        querystring: {
          type: "object",
          properties: {
            events: { type: "string", description: "Comma-separated event types as that version names them; `reaction.*` matches a family" },
            version: { type: "integer", enum: [2, 3], default: 2, description: "Whose payloads and signatures: a V2 or a V3 subscription's" },
            payload_version: {
              type: "string",
              enum: [...WEBHOOK_VERSIONS],
              description: `V3 only: the payload version, as \`?version=\` on a subscription's target URL picks it (default ${DEFAULT_WEBHOOK_VERSION})`,
            },
          },
        },
        produces: ["text/event-stream"],
      },
    },
    async (request, reply) => {
      const patterns = (request.query.events ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "");
      const { version, payload_version: payloadVersion } = request.query;
      if (payloadVersion !== undefined && version !== 3) {
        throw new DomainError("validation_failed", "payload_version applies to version 3 only", { field: "payload_version" });
      }
      const accepts = parseEventFilter(patterns, deps.eventTypes[version]);
      const listener = await findListener(deps, request.caller.orgId, request.params.name);
      const lastPosition = await deps.listeners.lastPosition();

      const response = openEventStream(reply);
      let closed = false;
      // Set by a commit's activity: read again before waiting (one may land during a read).
      let woken = false;
      let wake: (() => void) | undefined;
      const write = (frame: string): Promise<void> | undefined => {
        if (closed || response.write(frame)) return undefined;
        return new Promise((resolve) => {
          const done = () => {
            response.off("drain", done);
            response.off("close", done);
            resolve();
          };
          response.on("drain", done);
          response.on("close", done);
        });
      };
      write(`event: hello\ndata: ${JSON.stringify({ acked_position: listener.ackedPosition, last_position: lastPosition })}\n\n`);
      open.add(response);
      const unsubscribe = activity.subscribe(listener.orgId, () => {
        woken = true;
        wake?.();
      });
      // Network keep-alive, not product time: the wall clock even under a virtual clock.
      const heartbeat = setInterval(() => void write(": ping\n\n"), HEARTBEAT_MS);
      heartbeat.unref();
      const stop = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(response);
        wake?.();
      };
      request.raw.on("close", stop);
      response.on("close", stop);

      // The cursor only moves on acknowledgements; the stream keeps its own place meanwhile.
      let sentTo = listener.ackedPosition;
      let announcedTo = sentTo;
      while (!closed) {
        const from = sentTo;
        woken = false;
        let batch;
        try {
          batch = await nextEvents(deps, listener, { version, payloadVersion }, sentTo, accepts, BATCH);
        } catch (error) {
          // The listener reconnects and resumes from its cursor; the log says why it had to.
          request.log.error({ err: error }, "listener stream failed");
          response.end();
          stop();
          return;
        }
        for (const event of batch.events) {
          await write(`id: ${event.position}\nevent: webhook\ndata: ${JSON.stringify(toStreamEvent(event))}\n\n`);
          announcedTo = event.position;
        }
        sentTo = batch.scannedTo;
        if (sentTo > announcedTo) {
          await write(`event: checkpoint\ndata: ${JSON.stringify({ position: sentTo })}\n\n`);
          announcedTo = sentTo;
        }
        if (sentTo > from || woken || closed) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    },
  );
};
