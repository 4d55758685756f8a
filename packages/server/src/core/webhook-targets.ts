// Where webhooks may send (GALLEY_WEBHOOK_ALLOW). By default only public addresses: private,
// loopback, link-local, unique-local, multicast and reserved ranges are refused, in IPv4 and IPv6
// (IPv4-mapped IPv6 addresses count as their IPv4 address), so a webhook cannot be aimed at the
// server's own network. The check runs on the URL at creation (a clear 400) and again on the
// address actually connected to at send time, so a name that later resolves elsewhere (DNS
// rebinding) is still refused.

import dns from 'node:dns';
import net from 'node:net';

/** Ranges no webhook reaches unless the operator allows them. */
const REFUSED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services live here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and broadcast
];
const REFUSED_V6: Array<[string, number]> = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b::', 96], // NAT64: an IPv4 address in disguise
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: an IPv4 address in disguise
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
];

const refused = new net.BlockList();
for (const [address, prefix] of REFUSED_V4) refused.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of REFUSED_V6) refused.addSubnet(address, prefix, 'ipv6');

const familyName = (address: string) => (net.isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** The address in a URL's host (`[::1]` → `::1`), or undefined for a host name. */
function literalAddress(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return net.isIP(bare) ? bare : undefined;
}

export class WebhookTargets {
  readonly #anything: boolean;
  readonly #hosts = new Set<string>();
  readonly #allowed = new net.BlockList();

  /** `allow`: entries of GALLEY_WEBHOOK_ALLOW, already validated by the configuration. */
  constructor(allow: readonly string[]) {
    this.#anything = allow.includes('*');
    for (const entry of allow) {
      if (entry === '*') continue;
      const [address, bits] = entry.split('/');
      if (net.isIP(address!)) {
        const family = familyName(address!);
        if (bits === undefined) this.#allowed.addAddress(address!, family);
        else this.#allowed.addSubnet(address!, Number(bits), family);
      } else {
        this.#hosts.add(entry.toLowerCase());
      }
    }
  }

  /** Whether a connection to `address` (an IP address) may be made for host `hostname`. */
  allowsAddress(address: string, hostname?: string): boolean {
    if (this.#anything || (hostname !== undefined && this.#hosts.has(hostname.toLowerCase()))) return true;
    const family = familyName(address);
    return this.#allowed.check(address, family) || !refused.check(address, family);
  }

  /**
   * Why `url` cannot be a webhook target, or undefined when it can: http(s) only, no credentials
   * in it, and a host whose addresses are all allowed (names are resolved now).
   */
  async problemWith(url: string): Promise<string | undefined> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'must be an absolute http:// or https:// URL';
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must be an http:// or https:// URL';
    if (parsed.username || parsed.password) return 'must not carry credentials: receivers verify the Galley-Signature header instead';
    const literal = literalAddress(parsed.hostname);
    if (literal) return this.allowsAddress(literal) ? undefined : 'points to a private or reserved address (see GALLEY_WEBHOOK_ALLOW)';
    let addresses: dns.LookupAddress[];
    try {
      addresses = await dns.promises.lookup(parsed.hostname, { all: true, verbatim: true });
    } catch {
      return 'has a host name that does not resolve';
    }
    if (addresses.length === 0) return 'has a host name that does not resolve';
    if (addresses.some((a) => !this.allowsAddress(a.address, parsed.hostname))) return 'resolves to a private or reserved address (see GALLEY_WEBHOOK_ALLOW)';
    return undefined;
  }

  /** Why a literal address in `url` may not be connected to (names are checked by `lookup`). */
  refusedLiteral(url: URL): string | undefined {
    const literal = literalAddress(url.hostname);
    return literal && !this.allowsAddress(literal) ? `${literal} is a private or reserved address (see GALLEY_WEBHOOK_ALLOW)` : undefined;
  }

  /**
   * A `lookup` for sockets (undici's `connect` options): resolves as usual, then refuses the
   * connection when any address the name resolves to is not allowed — checked on the very answer
   * the socket connects with, so no second resolution can differ from the one checked.
   */
  readonly lookup: net.LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      const bad = list.find((a) => !this.allowsAddress(a.address, hostname));
      if (bad || list.length === 0) {
        const refusal = Object.assign(new Error(`${hostname} resolves to a private or reserved address (see GALLEY_WEBHOOK_ALLOW)`), { code: 'ERR_WEBHOOK_TARGET_REFUSED' });
        return callback(refusal, '', 0);
      }
      if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
