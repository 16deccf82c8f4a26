import type { FastifyInstance } from "fastify";

/**
 * Many HTTP clients (the official V3 SDK among them) send `Content-Type: application/json`
 * on every request, also on bodyless actions (mark as read, typing, DELETE …). Rails reads
 * an empty JSON body as "no parameters"; so does each face, instead of Fastify's 400.
 * Anything else goes through Fastify's own JSON parser (same prototype-poisoning guard,
 * same body limit).
 */
export function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if ((body as string).trim() === "") return done(null, undefined);
    parseJson(request, body as string, done);
  });
}
