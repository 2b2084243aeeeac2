/**
 * HOST:PORT as people and files write it ([v6]:port for IPv6, a bare IPv6 address without one):
 * one parser for the command line, the address book, the coordinator's options and `connect`.
 * It never throws: a bad value is an `{ error }` naming what is wrong, and each caller turns that
 * into its own outcome (a usage error, a skipped address, a PoolError). Any thread, no I/O.
 */

export interface HostPort {
  host: string;
  port: number;
}

export interface HostPortOptions {
  /** Port 0 (any free port: a listen address) is accepted. @default false */
  allowPortZero?: boolean;
}

/** The host and port of `s` (the port defaults to `defaultPort` when absent), or why not. */
export function parseHostPort(s: string, defaultPort?: number, o: HostPortOptions = {}): HostPort | { error: string } {
  const t = s.trim();
  let host: string;
  let portStr: string | undefined;
  if (t.startsWith('[')) {
    const end = t.indexOf(']');
    if (end < 0) return { error: `no closing ] in ${JSON.stringify(s)}` };
    host = t.slice(1, end);
    const rest = t.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return { error: `unexpected ${JSON.stringify(rest)} after ] in ${JSON.stringify(s)}` };
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
  if (!host) return { error: `no host in ${JSON.stringify(s)}` };
  if (portStr === undefined) {
    if (defaultPort === undefined) return { error: `no port in ${JSON.stringify(s)}` };
    return { host, port: defaultPort };
  }
  const port = /^\d{1,5}$/.test(portStr) ? Number(portStr) : NaN;
  if (!(port >= (o.allowPortZero ? 0 : 1) && port < 65536)) return { error: `bad port ${JSON.stringify(portStr)} in ${JSON.stringify(s)}` };
  return { host, port };
}

/** Whether a parse succeeded. */
export function isHostPort(r: HostPort | { error: string }): r is HostPort {
  return !('error' in r);
}
