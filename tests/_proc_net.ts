// Reading a loopback TCP socket's timer from Linux's /proc/net/tcp: an idle
// ESTABLISHED socket with SO_KEEPALIVE has its keepalive timer pending
// (`tr` 2), one without has none (`tr` 0). Runtime-neutral: what the
// keepalive tests on Deno and on Node check against the kernel.
import { readFileSync } from "node:fs";

/**
 * The timer field (`tr`, 0 to 4) of the IPv4 socket `localPort` ->
 * `remotePort`, or `null` when there is no such line; a string saying why
 * when /proc/net/tcp cannot be read (not Linux), for the test to skip with.
 */
export function tcpTimer(
  localPort: number,
  remotePort: number,
): number | null | string {
  let table: string;
  try {
    table = readFileSync("/proc/net/tcp", "utf8");
  } catch (error) {
    return `/proc/net/tcp is not readable here: ${(error as Error).message}`;
  }
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [local, remote, timer] = [fields[1], fields[2], fields[5]];
    if (local === undefined || remote === undefined || timer === undefined) {
      continue;
    }
    const port = (address: string) => parseInt(address.split(":")[1]!, 16);
    if (port(local) === localPort && port(remote) === remotePort) {
      return parseInt(timer.split(":")[0]!, 16);
    }
  }
  return null;
}

/** The keepalive timer's value in the `tr` field. */
export const KEEPALIVE_TIMER = 2;
