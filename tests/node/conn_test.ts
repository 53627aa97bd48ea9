// fromSocket() and NodeConn over real sockets on 127.0.0.1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { once } from "node:events";
import net from "node:net";
import {
  BrokenPipeError,
  ConnectionClosedError,
  ConnectionResetError,
  type Reader,
  readExact,
  TcpFrameError,
  UnexpectedEofError,
  writeAll,
} from "tcpframe";
import { fromSocket } from "tcpframe/node";
import {
  assertResetOrBrokenPipe,
  pseudoRandomBytes,
  writeUntilFailure,
} from "../_fixtures.ts";
import { delay, readAll, tcpPair, withoutStrayErrors } from "./_net.ts";

const MiB = 1024 * 1024;

/** A raw `node:net` server and client with default options, both connected. */
async function rawSockets(
  serverOptions: net.ServerOpts = {},
): Promise<[net.Socket, net.Socket, () => void]> {
  const server = net.createServer(serverOptions);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect({ host: "127.0.0.1", port });
  const [[accepted]] = await Promise.all([
    once(server, "connection") as Promise<[net.Socket]>,
    once(client, "connect"),
  ]);
  return [client, accepted, () => server.close()];
}

test("NodeConn carries bytes both ways with writeAll() and readExact()", async () => {
  const [client, server] = await tcpPair();
  const up = pseudoRandomBytes(MiB, 1);
  const down = pseudoRandomBytes(MiB, 2);
  const [, , gotUp, gotDown] = await Promise.all([
    writeAll(client, up),
    writeAll(server, down),
    readExact(server, up.byteLength),
    readExact(client, down.byteLength),
  ]);
  assert.equal(Buffer.compare(gotUp, up), 0);
  assert.equal(Buffer.compare(gotDown, down), 0);
  client.close();
  server.close();
});

test("NodeConn has the addresses of both ends", async () => {
  const [client, server] = await tcpPair();
  assert.deepEqual(client.remoteAddr, server.localAddr);
  assert.deepEqual(client.localAddr, server.remoteAddr);
  assert.equal(client.remoteAddr.transport, "tcp");
  assert.equal(client.remoteAddr.hostname, "127.0.0.1");
  assert.ok(client.localAddr.port > 0);
  client.close();
  server.close();
  assert.equal(client.remoteAddr.hostname, "127.0.0.1", "kept after close");
});

test("NodeConn.closeWrite() half-closes: the peer reads to EOF and can still reply", async () => {
  const [client, server] = await tcpPair();
  await writeAll(client, new TextEncoder().encode("ping"));
  await client.closeWrite();
  assert.equal(new TextDecoder().decode(await readAll(server)), "ping");
  await writeAll(server, new TextEncoder().encode("pong"));
  await server.closeWrite();
  assert.equal(new TextDecoder().decode(await readAll(client)), "pong");
  client.close();
  server.close();
});

test("NodeConn.closeWrite() is idempotent; write() after it rejects with BrokenPipeError", async () => {
  const [client, server] = await tcpPair();
  const first = client.closeWrite();
  assert.equal(client.closeWrite(), first);
  await first;
  await assert.rejects(client.write(new Uint8Array(1)), BrokenPipeError);
  assert.equal(await server.read(new Uint8Array(1)), null);
  client.close();
  server.close();
});

test("fromSocket() turns allowHalfOpen on for sockets created without it", async () => {
  const [rawClient, rawServer, stop] = await rawSockets();
  assert.equal(rawServer.allowHalfOpen, false, "Node's default");
  const client = fromSocket(rawClient);
  const server = fromSocket(rawServer);
  await client.closeWrite();
  assert.equal(await server.read(new Uint8Array(1)), null);
  await delay(20); // Node would have ended the server's side by now
  await writeAll(server, new TextEncoder().encode("late reply"));
  assert.equal(
    new TextDecoder().decode(await readExact(client, 10)),
    "late reply",
  );
  client.close();
  server.close();
  stop();
});

test("fromSocket() rejects a socket that is not connected", () => {
  const socket = new net.Socket();
  assert.throws(() => fromSocket(socket), TypeError);
  assert.throws(() => fromSocket({} as net.Socket), TypeError);
});

test("NodeConn.read() returns short reads and keeps the rest of a chunk for later", async () => {
  const [client, server] = await tcpPair();
  const data = pseudoRandomBytes(10_000, 3);
  await writeAll(client, data);
  await client.closeWrite();
  await delay(20); // let the whole chunk arrive, so reads come from leftovers
  const got: number[] = [];
  const p = new Uint8Array(7);
  for (;;) {
    const n = await server.read(p);
    if (n === null) break;
    assert.ok(n > 0 && n <= 7);
    got.push(...p.subarray(0, n));
  }
  assert.deepEqual(new Uint8Array(got), data);
  client.close();
  server.close();
});

test("NodeConn.read() resolves null at end of stream, every time after", async () => {
  const [client, server] = await tcpPair();
  client.close();
  const p = new Uint8Array(8);
  assert.equal(await server.read(p), null);
  assert.equal(await server.read(p), null);
  await assert.rejects(readExact(server, 4), (error) => {
    assert.ok(error instanceof UnexpectedEofError);
    assert.equal(error.bytesRead, 0);
    return true;
  });
  server.close();
});

test("NodeConn.read() serves concurrent reads in call order", async () => {
  const [client, server] = await tcpPair();
  const a = new Uint8Array(2);
  const b = new Uint8Array(2);
  const reads = Promise.all([readExact(server, a), readExact(server, b)]);
  await writeAll(client, new Uint8Array([1, 2, 3, 4]));
  await reads;
  assert.deepEqual([...a, ...b], [1, 2, 3, 4]);
  client.close();
  server.close();
});

test("writeAll() sends 32 MiB to a slow reader; short reads, byte-exact, bounded buffering", async () => {
  const [client, server] = await tcpPair();
  const size = 32 * MiB;
  const chunk = 256 * 1024;
  const data = pseudoRandomBytes(size, 4);
  let maxBuffered = 0;
  const sample = () => {
    maxBuffered = Math.max(maxBuffered, client.socket.writableLength);
  };
  const sampler = setInterval(sample, 1);
  const sending = (async () => {
    for (let offset = 0; offset < size; offset += chunk) {
      await writeAll(client, data.subarray(offset, offset + chunk));
      sample();
    }
    await client.closeWrite();
  })();

  await delay(50); // the reader starts late, then reads slowly
  let reads = 0;
  const counting: Reader = {
    read(p) {
      reads++;
      return server.read(p);
    },
  };
  const received = new Uint8Array(size);
  const piece = MiB;
  for (let offset = 0; offset < size; offset += piece) {
    await readExact(counting, received.subarray(offset, offset + piece));
    await delay(1);
  }
  await sending;
  clearInterval(sampler);
  assert.equal(await server.read(new Uint8Array(1)), null);
  assert.equal(Buffer.compare(received, data), 0, "bytes differ");
  assert.ok(
    reads > size / piece,
    `expected short reads: ${reads} reads for ${size / piece} readExact calls`,
  );
  assert.ok(
    maxBuffered <= chunk,
    `Node buffered ${maxBuffered} bytes; at most one ${chunk}-byte write expected`,
  );
  client.close();
  server.close();
});

test("NodeConn.write() waits for 'drain' while the peer does not read", async () => {
  const [client, server] = await tcpPair();
  const chunk = new Uint8Array(64 * 1024);
  let written = 0;
  let stalled: Promise<number> | undefined;
  for (let i = 0; i < 4096 && stalled === undefined; i++) { // <= 256 MiB
    const write = client.write(chunk);
    const done = await Promise.race([write, delay(200).then(() => "stalled")]);
    if (done === "stalled") stalled = write;
    else written += chunk.byteLength;
  }
  assert.ok(stalled !== undefined, "write() never waited");
  assert.ok(
    client.socket.writableLength <= chunk.byteLength,
    `Node buffered ${client.socket.writableLength} bytes`,
  );
  const draining = readExact(server, written + chunk.byteLength);
  assert.equal(await stalled, chunk.byteLength);
  await draining;
  client.close();
  server.close();
});

test("NodeConn.read() rejects with ConnectionResetError when the peer resets", async () => {
  const [client, server] = await tcpPair();
  const stray = await withoutStrayErrors(async () => {
    const pending = client.read(new Uint8Array(8));
    server.socket.resetAndDestroy();
    await assert.rejects(pending, (error) => {
      assert.ok(error instanceof ConnectionResetError);
      assert.equal(error.code, "CONNECTION_RESET");
      assert.equal((error.cause as { code?: string }).code, "ECONNRESET");
      return true;
    });
    await assert.rejects(client.read(new Uint8Array(8)), ConnectionResetError);
  });
  assert.deepEqual(stray, []);
  client.close();
});

test("NodeConn.write() to a reset connection rejects with CONNECTION_RESET or BROKEN_PIPE, never unhandled", async () => {
  const [client, server] = await tcpPair();
  const stray = await withoutStrayErrors(async () => {
    server.socket.resetAndDestroy();
    assertResetOrBrokenPipe(
      await writeUntilFailure(() => writeAll(client, new Uint8Array(1024))),
    );
    // Every later call reports the same failure.
    await assert.rejects(client.write(new Uint8Array(1)), TcpFrameError);
    await assert.rejects(client.read(new Uint8Array(1)), TcpFrameError);
  });
  assert.deepEqual(stray, []);
  client.close();
});

test("NodeConn.write() after the peer closed fails with CONNECTION_RESET or BROKEN_PIPE", async () => {
  const [client, server] = await tcpPair();
  const stray = await withoutStrayErrors(async () => {
    server.close();
    assert.equal(await client.read(new Uint8Array(1)), null);
    assertResetOrBrokenPipe(
      await writeUntilFailure(() => writeAll(client, new Uint8Array(1024))),
    );
  });
  assert.deepEqual(stray, []);
  client.close();
});

test("NodeConn.close() rejects a pending read and later calls with ConnectionClosedError", async () => {
  const [client, server] = await tcpPair();
  const pending = server.read(new Uint8Array(8));
  server.close();
  server.close(); // idempotent
  await assert.rejects(pending, ConnectionClosedError);
  await assert.rejects(server.read(new Uint8Array(8)), ConnectionClosedError);
  await assert.rejects(server.write(new Uint8Array(8)), ConnectionClosedError);
  await assert.rejects(server.closeWrite(), ConnectionClosedError);
  assert.equal(await client.read(new Uint8Array(8)), null);
  client.close();
});

test("NodeConn.close() rejects a write that waits for 'drain'", async () => {
  const [client, server] = await tcpPair();
  const big = new Uint8Array(64 * MiB); // more than the kernel buffers
  const pending = client.write(big);
  await delay(20);
  client.close();
  await assert.rejects(pending, ConnectionClosedError);
  server.close();
});

test("readExact() on a NodeConn rejects with signal.reason when aborted while the peer is silent", async () => {
  const [client, server] = await tcpPair();
  const controller = new AbortController();
  const pending = readExact(server, 4, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error("deadline")), 20);
  await assert.rejects(pending, { message: "deadline" });
  await assert.rejects(
    readExact(server, 4, { signal: AbortSignal.timeout(20) }),
    { name: "TimeoutError" },
  );
  client.close();
  server.close();
});

test("NodeConn.setNoDelay() reaches the socket", async () => {
  const [client, server] = await tcpPair();
  const calls: Array<boolean | undefined> = [];
  const original = client.socket.setNoDelay.bind(client.socket);
  client.socket.setNoDelay = (noDelay?: boolean) => {
    calls.push(noDelay);
    return original(noDelay);
  };
  client.setNoDelay(false);
  client.setNoDelay();
  assert.deepEqual(calls, [false, true]);
  client.close();
  server.close();
});
