/**
 * Loopback names and addresses, for local mode (no MicrosoftAppId: authentication is off and the
 * server listens on loopback only). Listening on 127.0.0.1 does not stop a web page in the user's own
 * browser from reaching it: a cross-site form post, or a page whose DNS name was re-bound to
 * 127.0.0.1 (DNS rebinding), would drive the bot as the Playground's admin. What tells those apart is
 * the Host header (a rebound page sends its own name) and the Origin header (any page sends its own
 * origin, a sandboxed one "null"); the Agents Playground posts from its own Node server, with a
 * loopback Host and no Origin (shared/reference/playground.md).
 */

const IPV4_LOOPBACK = /^127\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)$/;
const PORT = /^\d{1,5}$/;

function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase();
  return name === 'localhost' || name === '[::1]' || IPV4_LOOPBACK.test(name);
}

/** `localhost`, `127.x.x.x` or `[::1]`, each with or without a port (RFC 9110 §7.2 `Host`). */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const match = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(host.trim());
  if (!match) return false;
  const [, hostname = '', port] = match;
  return isLoopbackName(hostname) && (port === undefined || PORT.test(port));
}

/** An Origin header (RFC 6454 serialization) that names a loopback http(s) origin; "null" is not one. */
export function isLoopbackOrigin(origin: string): boolean {
  const match = /^https?:\/\/(.+)$/i.exec(origin.trim());
  return match !== null && !match[1]!.includes('/') && isLoopbackHost(match[1]);
}

/**
 * Where a request is addressed: the authority of an absolute-form target (`GET http://host/path`,
 * which takes precedence over Host, RFC 9112 §3.2.2), otherwise the Host header.
 */
export function requestAuthority(url: string | undefined, host: string | undefined): string | undefined {
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url ?? '');
  return absolute ? absolute[1] : host;
}
