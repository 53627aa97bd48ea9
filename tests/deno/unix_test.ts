// Deno's Unix domain sockets (`transport: "unix"`) are tcpframe Conns and
// Listeners: frames, half-close and a PROXY header over a socket file in a
// temporary directory.
import assert from "node:assert/strict";
import {
  type Conn,
  encodeProxyHeaderV2,
  FrameReader,
  type Listener,
  readFrame,
  readProxyHeader,
  writeAll,
  writeFrame,
  writeFrames,
} from "tcpframe";

/** Runs `body` with a fresh socket path in a temporary directory. */
async function withSocketPath(
  body: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tcpframe-unix-" });
  try {
    await body(`${dir}/test.sock`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Echoes frames on every connection until the listener closes. */
async function echo(listener: Listener): Promise<void> {
  for await (const peer of listener) {
    for await (const frame of new FrameReader(peer)) {
      await writeFrame(peer, frame);
    }
    await peer.closeWrite();
    peer.close();
  }
}

Deno.test("Deno unix sockets: FrameReader and writeFrame() echo frames of every size, then half-close", async () => {
  await withSocketPath(async (path) => {
    const listener: Listener = Deno.listen({ transport: "unix", path });
    assert.deepEqual(listener.addr, { transport: "unix", path });
    const serving = echo(listener);
    const conn: Conn = await Deno.connect({ transport: "unix", path });
    assert.deepEqual(conn.remoteAddr, { transport: "unix", path });
    const sizes = [0, 1, 4096, 65_536, 1_048_576];
    const sending = (async () => {
      await writeFrames(conn, sizes.map((size) => new Uint8Array(size)));
      await conn.closeWrite();
    })();
    const got: number[] = [];
    for await (const frame of new FrameReader(conn)) got.push(frame.byteLength);
    await sending;
    assert.deepEqual(got, sizes);
    conn.close();
    listener.close();
    await serving;
  });
});

Deno.test("Deno unix sockets: readProxyHeader() then frames, with the client's address from the header", async () => {
  await withSocketPath(async (path) => {
    const listener = Deno.listen({ transport: "unix", path });
    const conn = await Deno.connect({ transport: "unix", path });
    const header = encodeProxyHeaderV2({
      source: { transport: "tcp", hostname: "192.0.2.7", port: 56324 },
      destination: { transport: "tcp", hostname: "198.51.100.1", port: 443 },
    });
    const frame = new Uint8Array([0, 0, 0, 2, 104, 105]);
    await writeAll(conn, new Uint8Array([...header, ...frame])); // one segment
    await conn.closeWrite();

    const peer = await listener.accept();
    const result = await readProxyHeader(peer, {
      signal: AbortSignal.timeout(5000),
    });
    assert.deepEqual(result.header.source, {
      transport: "tcp",
      hostname: "192.0.2.7",
      port: 56324,
    });
    const payload = await readFrame(result.reader);
    assert.equal(new TextDecoder().decode(payload!), "hi");
    assert.equal(await readFrame(result.reader), null);
    peer.close();
    conn.close();
    listener.close();
  });
});
