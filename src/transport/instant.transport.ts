import type { Transport } from "../core/ports.ts";
import type { Clock } from "../core/ports.ts";

/**
 * Delivers every message at once over iMessage, as the quickstart shows
 * (`"delivery_status": "delivered"`). Typing, read and contact-card signals go nowhere.
 */
export function createInstantTransport(clock: Clock): Transport {
  return {
    async serviceFor() {
      return "iMessage";
    },
    async accept() {
      return { deliveryStatus: "delivered", deliveredAt: clock.now(), service: "iMessage" };
    },
    dispatched() {},
    startedTyping() {},
    stoppedTyping() {},
    markedRead() {},
    sharedContact() {},
    async supportsIMessage() {
      return true;
    },
  };
}
