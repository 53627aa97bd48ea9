// Printing addresses the way the source's getnameinfo() lines do, with IPv6
// in brackets so the port stays readable: 127.0.0.1:9000, [::1]:9000.

import type { NetAddr } from "../types.ts";

/** `host:port`, or `[host]:port` for an IPv6 address. */
export function formatHostPort(hostname: string, port: number): string {
  return hostname.includes(":")
    ? `[${hostname}]:${port}`
    : `${hostname}:${port}`;
}

/** A connection's address as `host:port`, or `(unknown)`. */
export function formatAddress(
  addr: NetAddr | { transport: string } | undefined,
): string {
  if (addr === undefined || !("hostname" in addr)) return "(unknown)";
  return formatHostPort(addr.hostname, addr.port);
}
