import type { TokenRevocations } from "../http/plugins/auth.ts";
import type { NotificationBus } from "./notification-bus.ts";

const TOPIC = "token_revoked";

/**
 * Revocation notices for the auth caches. On Postgres they travel on the notification bus to
 * every node (this one included); a notice lost while a node's LISTEN connection is down is
 * covered by the cache's TTL. On SQLite (one process) they stay in-process.
 */
export function createTokenRevocations(bus: NotificationBus | undefined): TokenRevocations {
  if (!bus) {
    const listeners = new Set<(tokenId: number) => void>();
    return {
      async publish(tokenId) {
        for (const listener of listeners) listener(tokenId);
      },
      async subscribe(listener) {
        listeners.add(listener);
        return async () => void listeners.delete(listener);
      },
    };
  }
  return {
    publish: (tokenId) => bus.publish(TOPIC, String(tokenId)),
    subscribe: (listener) =>
      bus.subscribe(TOPIC, (payload) => {
        const tokenId = Number(payload);
        if (Number.isInteger(tokenId)) listener(tokenId);
      }),
  };
}
