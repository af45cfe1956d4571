// The one gate for every outbound HTTP call whose destination an API caller chooses (a teacher's baseUrl; the
// Python judge has its twin in functions/trainer/ril_trainer/outbound.py). Without it a caller holding an EDITOR
// key could point the platform at the cloud metadata service, at the database port on the private network, or at
// a port on the server itself, and read what comes back (SSRF).
//
// The rules, in order:
//   - http(s) only, no credentials in the URL;
//   - the host is resolved with DNS and EVERY address it resolves to is checked: loopback, private, link-local
//     (169.254.169.254 is the cloud metadata address), unspecified, CGNAT, multicast, reserved and IPv4-in-IPv6
//     ranges are refused, unless the operator names the host in RIL_OUTBOUND_ALLOW_HOSTS (exact host or
//     host:port entries: a local model server is a legitimate teacher, but only the operator may say so);
//   - the connection goes to the address that was checked (a pinned `lookup`), so a second DNS answer cannot
//     rebind the host to an internal address between the check and the connect;
//   - redirects are never followed (a 3xx is an error: a redirect to an internal host is the classic bypass);
//   - the response body is capped (RIL_OUTBOUND_MAX_BYTES) and the whole exchange is timed (RIL_OUTBOUND_TIMEOUT_MS);
//   - errors say what went wrong in our words (status, a generic reason), never the remote body or headers, which
//     may carry whatever the remote chose to echo (keys, internal details) back to the caller.
import dns from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { LookupFunction } from 'node:net';
import type { Env } from '../env.js';

export interface OutboundPolicy {
  /** Lower-cased `host` or `host:port` entries (IPv6 hosts in brackets) exempt from the address check. */
  allowHosts: readonly string[];
  /** Largest response body read, in bytes; more is an error. */
  maxBytes: number;
  /** Longest a whole request (connect, send, read the body) may take, in ms. */
  timeoutMs: number;
}

export type OutboundSettings = Pick<Env, 'RIL_OUTBOUND_ALLOW_HOSTS' | 'RIL_OUTBOUND_MAX_BYTES' | 'RIL_OUTBOUND_TIMEOUT_MS'>;

export function outboundPolicyOf(env: OutboundSettings): OutboundPolicy {
  return {
    allowHosts: env.RIL_OUTBOUND_ALLOW_HOSTS.map((h) => h.toLowerCase()),
    maxBytes: env.RIL_OUTBOUND_MAX_BYTES,
    timeoutMs: env.RIL_OUTBOUND_TIMEOUT_MS,
  };
}

export type OutboundFailure = 'url' | 'blocked' | 'dns' | 'redirect' | 'too-large' | 'timeout' | 'network';

/** A refused or failed outbound call. `message` is safe to show to the API caller. */
export class OutboundError extends Error {
  constructor(readonly failure: OutboundFailure, message: string) {
    super(message);
    this.name = 'OutboundError';
  }
}

// --- Address ranges -----------------------------------------------------------------------------------------

const RANGES: [label: string, cidrs: string[]][] = [
  ['unspecified', ['0.0.0.0/8', '::/128']],
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']],
  ['link-local (this includes the cloud metadata address)', ['169.254.0.0/16', 'fe80::/10']],
  ['shared (CGNAT)', ['100.64.0.0/10']],
  ['multicast', ['224.0.0.0/4', 'ff00::/8']],
  // documentation, benchmarking, IETF protocol assignments, reserved/broadcast, deprecated site-local, discard
  ['reserved', ['192.0.0.0/24', '192.0.2.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '240.0.0.0/4',
    'fec0::/10', '100::/64', '2001:db8::/32']],
  // IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo): they can smuggle any of
  // the above past a check that only looks at the IPv6 ranges, and a public host never needs them.
  ['IPv4-in-IPv6', ['::ffff:0:0/96', '::/96', '64:ff9b::/96', '64:ff9b:1::/48', '2002::/16', '2001::/32']],
];

const BLOCKS: [string, net.BlockList][] = RANGES.map(([label, cidrs]) => {
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split('/');
    list.addSubnet(address, Number(prefix), net.isIPv6(address) ? 'ipv6' : 'ipv4');
  }
  return [label, list];
});

/** The name of the refused range `address` (an IP literal) falls in, or undefined if it is a public address. */
export function blockedRange(ip: string): string | undefined {
  const address = ip.split('%')[0]; // an IPv6 zone id (fe80::1%eth0) says which interface, not which range
  const family = net.isIP(address);
  if (family === 0) return 'invalid';
  const type = family === 6 ? 'ipv6' : 'ipv4';
  for (const [label, list] of BLOCKS) if (list.check(address, type)) return label;
  return undefined;
}

// --- URL and host checks ------------------------------------------------------------------------------------

const bare = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1');
const effectivePort = (url: URL) => url.port || (url.protocol === 'https:' ? '443' : '80');

/** Whether the operator exempted this URL's host (entry `host`) or host and port (entry `host:port`). */
export function hostAllowed(url: URL, policy: OutboundPolicy): boolean {
  const host = url.hostname.toLowerCase();
  return policy.allowHosts.includes(host) || policy.allowHosts.includes(`${host}:${effectivePort(url)}`);
}

const ALLOW_HINT = 'an operator can allow a host with RIL_OUTBOUND_ALLOW_HOSTS';

/**
 * The checks that need no DNS (scheme, credentials, an IP-literal host in a refused range), for early errors
 * when an endpoint is registered. The address check that counts is the one made where the request is made.
 */
export function checkOutboundUrl(raw: string, policy: OutboundPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundError('url', 'not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundError('url', 'only http and https URLs may be called');
  if (url.username || url.password) throw new OutboundError('url', 'the URL must not carry credentials');
  const host = bare(url.hostname);
  if (net.isIP(host) && !hostAllowed(url, policy)) {
    const range = blockedRange(host);
    if (range) throw new OutboundError('blocked', `${url.host} is a ${range} address, which outbound calls may not reach (${ALLOW_HINT})`);
  }
  return url;
}

export interface Destination { address: string; family: 4 | 6 }

/** Resolves the URL's host and checks every address; returns the one to connect to. */
export async function resolveDestination(url: URL, policy: OutboundPolicy): Promise<Destination> {
  const host = bare(url.hostname);
  let addresses: { address: string; family: number }[];
  try {
    addresses = await dns.lookup(host, { all: true, verbatim: true });
  } catch (err) {
    throw new OutboundError('dns', `cannot resolve ${url.hostname} (${(err as { code?: string }).code ?? 'DNS error'})`);
  }
  if (addresses.length === 0) throw new OutboundError('dns', `cannot resolve ${url.hostname}`);
  if (!hostAllowed(url, policy)) {
    for (const { address } of addresses) {
      const range = blockedRange(address);
      // The resolved address itself is not named: it would tell the caller how internal names resolve.
      if (range) throw new OutboundError('blocked', `${url.host} resolves to a ${range} address, which outbound calls may not reach (${ALLOW_HINT})`);
    }
  }
  const first = addresses[0];
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

// --- The request --------------------------------------------------------------------------------------------

export interface OutboundRequest {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Aborting rejects with the signal's reason. */
  signal?: AbortSignal;
  /** A shorter time cap than the policy's (the policy's is the ceiling). */
  timeoutMs?: number;
}

export interface OutboundResponse {
  status: number;
  /** For the caller's own use (e.g. Retry-After); never to be shown to an API caller. */
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request under every rule above. Resolves for any non-3xx status; rejects with OutboundError or the abort reason. */
export async function outboundRequest(rawUrl: string, req: OutboundRequest, policy: OutboundPolicy): Promise<OutboundResponse> {
  req.signal?.throwIfAborted();
  const url = checkOutboundUrl(rawUrl, policy);
  const dest = await resolveDestination(url, policy);
  req.signal?.throwIfAborted();
  const timeoutMs = Math.min(req.timeoutMs ?? policy.timeoutMs, policy.timeoutMs);

  // Every lookup the socket makes answers the checked address: no second DNS query, no rebinding.
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [dest]);
    else callback(null, dest.address, dest.family);
  };

  return new Promise<OutboundResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: unknown, res?: OutboundResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      if (err) {
        request.destroy();
        reject(err);
      } else resolve(res!);
    };
    const timer = setTimeout(() => finish(new OutboundError('timeout', `timed out after ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => finish(req.signal!.reason);
    req.signal?.addEventListener('abort', onAbort, { once: true });

    const options: https.RequestOptions = {
      method: req.method,
      hostname: bare(url.hostname),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      headers: req.headers,
      lookup: pinned,
      agent: false, // a fresh connection per request: a pooled socket could belong to another destination
    };
    const request = (url.protocol === 'https:' ? https : http).request(options, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        res.resume();
        return finish(new OutboundError('redirect', `HTTP ${status}: the endpoint answered with a redirect, which is not followed`));
      }
      const tooLarge = () => new OutboundError('too-large', `the response is larger than ${policy.maxBytes} bytes (RIL_OUTBOUND_MAX_BYTES)`);
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > policy.maxBytes) return finish(tooLarge());
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > policy.maxBytes) return finish(tooLarge());
        chunks.push(chunk);
      });
      res.on('end', () => finish(undefined, { status, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (err) => finish(networkError(err)));
      res.on('aborted', () => finish(new OutboundError('network', 'network error: the connection closed mid-response')));
    });
    request.on('error', (err) => finish(networkError(err)));
    request.end(req.body);
  });
}

/** A transport error in our words: the error code only (ECONNREFUSED, ECONNRESET, ...). */
function networkError(err: unknown): OutboundError {
  if (err instanceof OutboundError) return err;
  const code = (err as { code?: unknown })?.code;
  return new OutboundError('network', `network error: ${typeof code === 'string' ? code : 'connection failed'}`);
}
