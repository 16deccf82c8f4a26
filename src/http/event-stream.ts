import type { ServerResponse } from "node:http";
import type { FastifyReply } from "fastify";

/**
 * Takes the response over from Fastify and opens a server-sent event stream on it. Proxies
 * must not buffer it (x-accel-buffering) and nothing may cache it; the caller writes events
 * and ends the response.
 */
export function openEventStream(reply: FastifyReply): ServerResponse {
  reply.hijack();
  const response = reply.raw;
  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  return response;
}
