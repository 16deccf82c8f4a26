import type { LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import type { Network } from "../../src/net/safe-dispatcher.ts";

/**
 * A fake outside world for outbound HTTP: names resolve from `names` (anything else is
 * ENOTFOUND), and every address — public or not — leads to this machine's loopback, so
 * whatever the server decides to dial, no test traffic leaves 127.0.0.1. The private-address
 * guard judges the address as resolved, before this routing.
 */
export function fakeNetwork(names: Record<string, string[]>): Network & { lookups: string[] } {
  const lookups: string[] = [];
  const lookup = ((hostname: string, options: unknown, callback: (error: Error | null, addresses: LookupAddress[]) => void) => {
    lookups.push(hostname);
    const cb = typeof options === "function" ? (options as typeof callback) : callback;
    const addresses = names[hostname];
    queueMicrotask(() => {
      if (!addresses) cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }), []);
      else cb(null, addresses.map((address) => ({ address, family: isIP(address) })));
    });
  }) as unknown as LookupFunction;
  return { lookup, route: () => "127.0.0.1", lookups };
}
