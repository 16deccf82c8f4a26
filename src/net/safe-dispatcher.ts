import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { Agent, type Dispatcher } from "undici";
import { DomainError } from "../core/errors.ts";

/**
 * Outbound HTTP for webhooks and attachment downloads. When private URLs are refused,
 * the check happens at connect time on the address actually dialled (so DNS rebinding
 * cannot slip past a check made earlier).
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === "unicast";
}

export function assertAllowedUrl(url: string, allowPrivate: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DomainError("url_not_allowed", `${url} is not a valid URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new DomainError("url_not_allowed", `${url}: only http and https URLs are allowed`);
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  if (!allowPrivate && isIP(host) && !isPublicAddress(host)) {
    throw new DomainError("url_not_allowed", `${url} points to a private or loopback address, which is not allowed`);
  }
  return parsed;
}

const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, "", 0);
    const list = addresses as LookupAddress[];
    const blocked = list.find((a) => !isPublicAddress(a.address));
    if (blocked) {
      const refusal = Object.assign(new Error(`${hostname} resolves to ${blocked.address}, a private address`), {
        code: "EPRIVATEADDRESS",
      });
      return callback(refusal, "", 0);
    }
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    const first = list[0]!;
    callback(null, first.address, first.family);
  });
};

export function createDispatcher(options: { allowPrivate: boolean; connections?: number }): Dispatcher {
  return new Agent({
    connections: options.connections ?? 64,
    keepAliveTimeout: 10_000,
    ...(options.allowPrivate ? {} : { connect: { lookup: guardedLookup } }),
  });
}
