// Loopback TCP helpers for the Deno-only tests.

/** Opens a connected pair of TCP connections on 127.0.0.1. */
export async function tcpPair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  return [client, server];
}
