// serve() on Deno's own listeners: TCP, a Unix domain socket and TLS, with
// many clients at once, and TCP keepalive checked against the kernel's
// /proc/net/tcp.
import assert from "node:assert/strict";
import {
  FrameReader,
  type FrameSession,
  serve,
  type ServeOptions,
  writeFrame,
} from "tcpframe";
import { pseudoRandomBytes } from "../_fixtures.ts";
import { KEEPALIVE_TIMER, tcpTimer } from "../_proc_net.ts";
import { makeTestCertificate } from "../_tls.ts";

/** Echoes every frame. */
async function echo({ reader, writer }: FrameSession): Promise<void> {
  for await (const frame of reader) await writer.write(frame);
}

/** Sends `payloads`, half-closes and returns the echoes. */
async function exchange(
  conn: Deno.Conn,
  payloads: Uint8Array[],
): Promise<Uint8Array[]> {
  const options = { maxFrameSize: 2_000_000 };
  const sending = (async () => {
    for (const payload of payloads) await writeFrame(conn, payload, options);
    await conn.closeWrite();
  })();
  const echoes: Uint8Array[] = [];
  for await (const frame of new FrameReader(conn, options)) echoes.push(frame);
  await sending;
  conn.close();
  return echoes;
}

Deno.test("serve() on Deno.listen() serves 50 TCP clients at once, each with its own peer address", async () => {
  const peers: string[] = [];
  const options: ServeOptions = { maxFrameSize: 2_000_000 };
  const server = serve(
    Deno.listen({ hostname: "127.0.0.1", port: 0 }),
    async (session) => {
      const addr = session.remoteAddr as Deno.NetAddr;
      peers.push(`${addr.hostname}:${addr.port}`);
      await echo(session);
    },
    options,
  );
  const { port } = server.addr as Deno.NetAddr;
  const clients = await Promise.all(
    Array.from(
      { length: 50 },
      () => Deno.connect({ hostname: "127.0.0.1", port }),
    ),
  );
  const results = await Promise.all(clients.map((conn, i) => {
    const payloads = [
      pseudoRandomBytes(i * 997, i),
      new Uint8Array(0),
      pseudoRandomBytes(i === 0 ? 1_500_000 : 10, i + 1),
    ];
    const local = `127.0.0.1:${conn.localAddr.port}`;
    return exchange(conn, payloads).then((echoes) => ({
      payloads,
      echoes,
      local,
    }));
  }));
  for (const { payloads, echoes } of results) {
    assert.deepEqual(echoes, payloads);
  }
  await server.shutdown();
  assert.deepEqual(peers.sort(), results.map((r) => r.local).sort());
  assert.equal(server.sessions, 0);
});

Deno.test("serve() on a Deno Unix socket listener echoes frames; the peer is a UnixAddr", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcpframe-serve-" });
  const path = `${dir}/serve.sock`;
  try {
    let transport = "";
    const server = serve(
      Deno.listen({ transport: "unix", path }),
      async (session) => {
        transport = session.remoteAddr.transport;
        await echo(session);
      },
    );
    assert.deepEqual(server.addr, { transport: "unix", path });
    const payloads = [new Uint8Array([1, 2, 3]), pseudoRandomBytes(100_000, 3)];
    const conn = await Deno.connect({ transport: "unix", path });
    assert.deepEqual(await exchange(conn, payloads), payloads);
    await server.shutdown();
    assert.equal(transport, "unix");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const certificate = await makeTestCertificate();

Deno.test({
  name: typeof certificate === "string"
    ? `serve() on Deno.listenTls() echoes frames over TLS (skipped: ${certificate})`
    : "serve() on Deno.listenTls() echoes frames over TLS",
  ignore: typeof certificate === "string",
  async fn() {
    if (typeof certificate === "string") return;
    const server = serve(
      Deno.listenTls({
        hostname: "127.0.0.1",
        port: 0,
        cert: certificate.cert,
        key: certificate.key,
      }),
      echo,
    );
    const { port } = server.addr as Deno.NetAddr;
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port,
      caCerts: [certificate.cert],
    });
    const payloads = [
      new TextEncoder().encode("hello"),
      new Uint8Array(70_000),
    ];
    assert.deepEqual(await exchange(conn, payloads), payloads);
    await server.shutdown();
  },
});

const procReadable = tcpTimer(0, 0);

Deno.test({
  name: typeof procReadable === "string"
    ? `serve() keepAlive turns SO_KEEPALIVE on and off on accepted Deno connections (skipped: ${procReadable})`
    : "serve() keepAlive turns SO_KEEPALIVE on and off on accepted Deno connections",
  ignore: typeof procReadable === "string",
  async fn() {
    for (const keepAlive of [true, false]) {
      let opened = () => {};
      const open = new Promise<void>((resolve) => (opened = resolve));
      const server = serve(
        Deno.listen({ hostname: "127.0.0.1", port: 0 }),
        async (session) => {
          opened();
          await echo(session);
        },
        { keepAlive },
      );
      const { port } = server.addr as Deno.NetAddr;
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await open;
      const timer = tcpTimer(port, conn.localAddr.port);
      assert.equal(
        timer,
        keepAlive ? KEEPALIVE_TIMER : 0,
        `keepAlive ${keepAlive}`,
      );
      conn.close();
      await server.shutdown();
    }
  },
});
