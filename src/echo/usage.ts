/**
 * The echo CLI's usage text.
 *
 * @module
 */

import {
  DEFAULT_CLIENT_TIMEOUT_MS,
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNS,
  DEFAULT_MAX_FRAME,
} from "./options.ts";

/**
 * The usage text, with examples.
 *
 * @param command How users start the CLI, e.g. `deno task echo`.
 * @returns The text, ending with a newline.
 */
export function usage(command: string): string {
  return `Usage:
  ${command} server [host] <port> [options]
  ${command} server unix:<path> [options]
  ${command} client [host] <port> <message>... [options]
  ${command} client [host] <port> --stdin | --size <bytes> [--count <k>]
  ${command} client unix:<path> <message>... [options]

A TCP echo server and client. Each message is a frame: a 4-byte big-endian
length, then the payload. The server echoes every frame as soon as it has
arrived, on every connection at once; the client sends its frames, half-closes,
reads the echoes to the end and checks them.

host defaults to ${DEFAULT_HOST}. Listen on 0.0.0.0 or :: to accept connections
from other machines (:: accepts IPv4 too where the OS allows). Port 0 picks a
free port. An IPv6 host may be bracketed ([::1]), and host and port may be one
argument (127.0.0.1:9000, [::1]:9000), as [listen-ok] prints them.

unix:<path> is a Unix domain socket instead: the server creates the socket file
(it must not exist yet) and removes it when it stops. With deno run, both ends
also need read and write permission for it: -R=<path> -W=<path>.

Options may come before or after the positional arguments; put a message that
starts with "-" after "--".

Server options:
  --max-frame <bytes>    largest frame accepted (default ${DEFAULT_MAX_FRAME})
  --idle-timeout <ms>    close a connection that moved no bytes this long;
                         0 never does (default ${DEFAULT_IDLE_TIMEOUT_MS})
  --max-conns <n>        connections served at once; more are closed at once
                         (default ${DEFAULT_MAX_CONNS})
  --frame-timeout <ms>   close a connection whose frame is not complete this
                         long after its first byte (a peer trickling bytes);
                         0 never does (default ${DEFAULT_FRAME_TIMEOUT_MS})
  --min-rate <bytes/s>   close a connection whose frame, after its first
                         second, arrives slower than this; 0 never does
                         (default 0)
  --proxy-protocol <v>   read a PROXY protocol header first (v1, v2 or any),
                         as HAProxy's send-proxy and send-proxy-v2 send it,
                         and log the client's address from it; a connection
                         without one is refused
  --reuse-port           share the port with other server processes
                         (SO_REUSEPORT; Linux spreads the connections). Deno
                         needs --unstable-net; on Node use node:cluster

Client options:
  --max-frame <bytes>    largest frame sent or accepted back (default ${DEFAULT_MAX_FRAME})
  --stdin                send one frame per line of standard input
  --size <bytes>         send generated payloads of this size and verify the
                         echoes by checksum instead of printing them
  --count <k>            how many generated payloads (default 1)
  --timeout <ms>         deadline for the whole exchange; 0 for none
                         (default ${DEFAULT_CLIENT_TIMEOUT_MS})
  --trace                print read/write call statistics at the end

  -h, --help             show this help

Client exit codes: 0 every echo came back intact, 1 connect failed, 2 send
failed, 3 receive failed (including fewer or different echoes than sent).
A bad argument exits with 2.

Examples:
  ${command} server 0.0.0.0 9000
  ${command} client 127.0.0.1 9000 HELLO-WORLD "second frame"
  ${command} client 9000 --size 1048576 --count 100 --trace --timeout 0
  printf 'one\\ntwo\\n' | ${command} client 9000 --stdin
  ${command} client [::1]:9000 hello
  ${command} server 9000 --proxy-protocol v2
  ${command} server unix:/tmp/echo.sock
  ${command} client unix:/tmp/echo.sock hello
`;
}
