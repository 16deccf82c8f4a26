import fp from "fastify-plugin";
import type { FastifyReply, FastifyRequest } from "fastify";

declare module "fastify" {
  interface FastifyInstance {
    /** Answers of list routes kept while the store does not change (see readCachePlugin). */
    readCache: {
      /**
       * Sends the route's 200 answer: the bytes kept for this caller's organization and URL
       * when the store has not changed since they were computed, else `compute()`'s result
       * serialized by the route's response schema (and kept).
       */
      answer(request: FastifyRequest, reply: FastifyReply, compute: () => Promise<unknown>): Promise<FastifyReply>;
    };
  }
}

export interface ReadCacheOptions {
  /**
   * The store's version token: equal at two moments only when nothing was committed in
   * between, by any process or node (src/storage/read-version.ts). Without it nothing is kept.
   */
  readVersion?: (() => Promise<string>) | undefined;
  /** What else the answers depend on (the base URL of links), read at every request. */
  context: () => string;
  maxEntries?: number;
  /** Characters of kept answers, all together. */
  maxBytes?: number;
}

const JSON_TYPE = "application/json; charset=utf-8";

/**
 * Serialized answers of read routes, each kept with the store's version token read before
 * its queries ran, and served again only while the token is still the same. Equal tokens
 * mean nothing was committed in between by any process or node (ReadVersion), so every
 * query of the kept answer saw the state the token stands for, and that state is still
 * the current one: a kept answer is never stale. A hit costs one small query (the token)
 * instead of the page's several, and no serialization.
 *
 * Keyed by organization and the whole URL (path and query): an answer depends on nothing
 * else of the caller, and on nothing outside the store but the base URL of links
 * (`context`). Only routes whose answer is a function of those may use it. Bounded in
 * entries and bytes, least recently used dropped first.
 *
 * A token, once it has changed, never comes back (the commits it did not include stay
 * committed), so answers kept under any other token than the one last read can never be
 * served again: they are all dropped when a new token is read instead of waiting to be
 * pushed out, and a store being written to keeps only answers of its current state.
 *
 * An answer is kept only for a URL asked before (among the last `maxEntries × 4` distinct
 * URLs asked): a page asked once, as most pages of a store paged through at random
 * are, is not worth keeping, and every answer kept outlives V8's young generation, so it
 * is copied into the old one and lies there as garbage until the next full collection,
 * which lets the heap (and the RSS) grow by its size at every such request.
 */
export const readCachePlugin = fp<ReadCacheOptions>(
  async (app, { readVersion, context, maxEntries = 256, maxBytes = 4 * 1024 * 1024 }) => {
    const entries = new Map<string, { version: string; body: string }>();
    let bytes = 0;
    /** The token last read: only answers computed under it are kept. */
    let current: string | undefined;
    /** The URLs asked lately, in the order they were first asked. */
    const asked = new Set<string>();
    const maxAsked = maxEntries * 4;

    function keep(key: string, version: string, body: string): void {
      if (version !== current) return;
      if (!asked.has(key)) {
        asked.add(key);
        if (asked.size > maxAsked) asked.delete(asked.values().next().value!);
        return;
      }
      const old = entries.get(key);
      if (old) {
        entries.delete(key);
        bytes -= old.body.length;
      }
      if (body.length > maxBytes / 4) return;
      entries.set(key, { version, body });
      bytes += body.length;
      while (entries.size > maxEntries || bytes > maxBytes) {
        const [oldestKey, oldest] = entries.entries().next().value!;
        entries.delete(oldestKey);
        bytes -= oldest.body.length;
      }
    }

    async function answer(request: FastifyRequest, reply: FastifyReply, compute: () => Promise<unknown>) {
      if (!readVersion) return reply.send(await compute());
      const key = `${request.caller.orgId} ${context()} ${request.url}`;
      const version = await readVersion();
      if (version !== current) {
        current = version;
        entries.clear();
        bytes = 0;
      }
      const kept = entries.get(key);
      if (kept && kept.version === version) {
        // Re-inserted: Map order is the recency order.
        entries.delete(key);
        entries.set(key, kept);
        return reply.type(JSON_TYPE).send(kept.body);
      }
      const body = reply.serialize(await compute()) as string;
      keep(key, version, body);
      return reply.type(JSON_TYPE).send(body);
    }

    app.decorate("readCache", { answer });
  },
  { name: "openlinq-read-cache" },
);
