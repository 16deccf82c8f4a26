import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { Agent, buildConnector, type Dispatcher } from "undici";
import { DomainError } from "../core/errors.ts";

/**
 * Outbound HTTP for webhooks and attachment downloads. When private URLs are refused, the
 * check happens at connect time, on every connection (each redirect hop included), on the
 * address actually dialled: so DNS rebinding cannot slip past a check made earlier, and a
 * public URL redirecting to 127.0.0.1 or 169.254.169.254 is refused at that hop.
 */

/**
 * The outside world as the server sees it: name resolution and where an address leads.
 * Production uses the system resolver and dials what it answers; tests give a fake
 * resolver and route every address to loopback, so no test traffic leaves the machine.
 */
export interface Network {
  /** Resolves a host name (dns.lookup's contract, called with `all: true`). */
  lookup: LookupFunction;
  /** The address a connection to `address` really dials (the identity in production). */
  route?: (address: string) => string;
}

const systemNetwork: Network = { lookup: dnsLookup as LookupFunction };

const unbracket = (host: string) => host.replace(/^\[|\]$/g, "");

/**
 * True when `host` is an IP address in any spelling a resolver would accept: dotted,
 * decimal `2130706433`, hex `0x7f.1`, octal `0177.0.0.1`, short `127.1`, IPv6 (bracketed or
 * not). Such a host is dialled as the address it spells, without DNS.
 */
export function isIpLiteral(host: string): boolean {
  const bare = unbracket(host);
  return isIP(bare) !== 0 || ipaddr.isValid(bare);
}

/**
 * Only global unicast addresses are public. IPv6 forms that carry an IPv4 address —
 * mapped `::ffff:7f00:1`, compatible `::127.0.0.1` — are judged by that IPv4 address;
 * NAT64, 6to4 and Teredo ranges are not unicast to ipaddr.js, so they are refused.
 */
export function isPublicAddress(address: string): boolean {
  const bare = unbracket(address);
  if (!ipaddr.isValid(bare)) return false;
  let parsed = ipaddr.parse(bare);
  if (parsed.kind() === "ipv6") {
    const v6 = parsed as ipaddr.IPv6;
    const words = v6.parts;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
    else if (words.slice(0, 6).every((word) => word === 0)) {
      parsed = ipaddr.fromByteArray(v6.toByteArray().slice(12));
    }
  }
  return parsed.range() === "unicast";
}

function privateAddressError(host: string, address: string) {
  const detail = host === address ? `${address} is a private address` : `${host} resolves to ${address}, a private address`;
  return Object.assign(new Error(detail), { code: "EPRIVATEADDRESS" });
}

/** Refuses URLs that are not http(s), and (unless allowed) IP literals that are not public. */
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
  if (!allowPrivate && isIpLiteral(parsed.hostname) && !isPublicAddress(parsed.hostname)) {
    throw new DomainError("url_not_allowed", `${url} points to a private or loopback address, which is not allowed`);
  }
  return parsed;
}

function resolveAll(network: Network, hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    network.lookup(hostname, { all: true }, (error, addresses) => {
      if (error) reject(error);
      else resolve(addresses as unknown as LookupAddress[]);
    });
  });
}

/**
 * A webhook URL that can only reach private addresses is refused when it is registered,
 * not just when a delivery is attempted: an IP literal that is not public, `localhost`,
 * or a name whose every address is private. A name that does not resolve now is
 * accepted (it may by the time events flow); delivery checks every connection anyway.
 */
export function createUrlPolicy(options: { allowPrivate: boolean; network?: Network | undefined }) {
  const network = options.network ?? systemNetwork;
  return async function checkWebhookUrl(url: string, field: string): Promise<void> {
    if (options.allowPrivate) return;
    const parsed = new URL(url);
    const refuse = (why: string) =>
      new DomainError(
        "url_not_allowed",
        `${field} ${url} ${why}; private, loopback and link-local addresses are refused (OPENLINQ_ALLOW_PRIVATE_URLS=false)`,
        { field },
      );
    const host = parsed.hostname;
    if (isIpLiteral(host)) {
      if (!isPublicAddress(host)) throw refuse("points to a private address");
      return;
    }
    if (host === "localhost" || host.endsWith(".localhost")) throw refuse("points to this machine");
    let addresses: LookupAddress[];
    try {
      addresses = await resolveAll(network, host);
    } catch {
      return;
    }
    if (addresses.length > 0 && addresses.every((a) => !isPublicAddress(a.address))) {
      throw refuse(`resolves only to private addresses (${addresses.map((a) => a.address).join(", ")})`);
    }
  };
}

/** Resolves through `network`, refuses private answers, and dials the routed address. */
function guardedLookup(network: Network, allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    network.lookup(hostname, { ...options, all: true }, (error, found) => {
      if (error) return callback(error, "", 0);
      const list = found as unknown as LookupAddress[];
      const blocked = allowPrivate ? undefined : list.find((a) => !isPublicAddress(a.address));
      if (blocked) return callback(privateAddressError(hostname, blocked.address), "", 0);
      const routed = list.map((a) => {
        const address = network.route ? network.route(a.address) : a.address;
        return { address, family: isIP(address) || a.family };
      });
      if ((options as { all?: boolean }).all) {
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, routed);
      }
      const first = routed[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "", 0);
      callback(null, first.address, first.family);
    });
  };
}

export function createDispatcher(options: { allowPrivate: boolean; connections?: number; network?: Network | undefined }): Dispatcher {
  const network = options.network ?? systemNetwork;
  const plain = options.allowPrivate && options.network === undefined;
  const base = buildConnector(plain ? {} : { lookup: guardedLookup(network, options.allowPrivate) });
  // IP literals never reach the lookup (the socket dials them directly), so they are
  // checked here, on every connection: the first URL and each redirect hop alike.
  const connect: buildConnector.connector = (target, callback) => {
    const host = unbracket(target.hostname);
    if (isIpLiteral(host)) {
      if (!options.allowPrivate && !isPublicAddress(host)) return callback(privateAddressError(host, host), null);
      if (network.route) {
        const routed = network.route(host);
        return base({ ...target, hostname: routed, host: target.port ? `${routed}:${target.port}` : routed }, callback);
      }
    }
    base(target, callback);
  };
  return new Agent({ connections: options.connections ?? 64, keepAliveTimeout: 10_000, connect });
}
