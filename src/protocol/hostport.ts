/**
 * host:port text ([v6]:port for IPv6; a bare IPv6 address or name takes the default port): one
 * parser with one behaviour for the address book, the store and the CLI. Returns a result, never
 * throws; callers that want an exception (the CLI's usage errors) wrap it. Any thread, cold path.
 */

export interface HostPort {
  host: string;
  port: number;
}

/** The parse of a host:port string: the parts, or why it is not one (for messages). */
export type HostPortResult = ({ ok: true } & HostPort) | { ok: false; error: string };

/**
 * Splits host:port. `defaultPort` serves a string without a port; port 0 is refused unless
 * `allowPortZero` (a listen address: any free port).
 */
export function readHostPort(s: string, defaultPort?: number, allowPortZero = false): HostPortResult {
  const t = s.trim();
  let host: string;
  let portStr: string | undefined;
  if (t.startsWith('[')) {
    const end = t.indexOf(']');
    if (end < 0) return { ok: false, error: `no closing ] in ${JSON.stringify(s)}` };
    host = t.slice(1, end);
    const rest = t.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return { ok: false, error: `junk after ] in ${JSON.stringify(s)}` };
    portStr = rest === '' ? undefined : rest.slice(1);
  } else {
    const i = t.lastIndexOf(':');
    // More than one colon without brackets: a bare IPv6 address, no port.
    if (i >= 0 && t.indexOf(':') === i) {
      host = t.slice(0, i);
      portStr = t.slice(i + 1);
    } else {
      host = t;
    }
  }
  if (!host) return { ok: false, error: `no host in ${JSON.stringify(s)}` };
  if (portStr === undefined) {
    if (defaultPort === undefined) return { ok: false, error: `no port in ${JSON.stringify(s)}` };
    return { ok: true, host, port: defaultPort };
  }
  const port = /^\d{1,5}$/.test(portStr) ? Number(portStr) : NaN;
  if (!(port < 65536 && (port > 0 || (port === 0 && allowPortZero)))) return { ok: false, error: `bad port ${JSON.stringify(portStr)} in ${JSON.stringify(s)}` };
  return { ok: true, host, port };
}

/** readHostPort's parts, or null when the string is not a host:port. */
export function parseHostPort(s: string, defaultPort?: number, allowPortZero = false): HostPort | null {
  const r = readHostPort(s, defaultPort, allowPortZero);
  return r.ok ? { host: r.host, port: r.port } : null;
}
