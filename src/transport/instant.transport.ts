import type { Clock, Transport } from "../core/ports.ts";

/**
 * Delivers every message at once over iMessage, as the quickstart shows
 * (`"delivery_status": "delivered"`). Signals (typing, read, contact card) go nowhere.
 */
export function createInstantTransport(clock: Clock): Transport {
  return {
    async serviceFor() {
      return "iMessage";
    },
    async route() {
      return { service: "iMessage", handleServices: new Map() };
    },
    async send({ message }) {
      return { carrierMessageId: `instant-${message.message.id}`, outcome: { status: "delivered", at: clock.now() } };
    },
    async signal() {},
    async supportsIMessage() {
      return true;
    },
  };
}
