// deno-lint-ignore-file no-console -- a benchmark child reports on stdout
/**
 * The receiving peer of the send-side cases, in a process of its own so that
 * a sender's rate and CPU are its own (with sender and receiver on one
 * thread, how much each read finds waiting decides the rate, and it flips
 * between modes from run to run). Plain `Deno.Conn` reads and writes, no
 * tcpframe:
 *
 *   deno run -N=127.0.0.1 scripts/bench/send_peer.ts
 *
 * prints `{"sink":<port>,"echo":<port>}` and serves until stopped by its PID.
 *
 * - The sink reads each connection to its end in 256 KiB reads, counts its
 *   bytes and its frames (u32 big-endian length, then payload), then writes
 *   back 16 bytes (both counts as float64 big-endian) and closes. A sender
 *   stops its clock when that reply arrives: everything it sent was received.
 * - The echo writes back every byte it reads, as it reads it.
 *
 * @module
 */

/** Bytes and whole frames of a stream of u32 BE length-prefixed frames. */
class FrameCounter {
  bytes = 0;
  frames = 0;
  /** Payload bytes of the current frame still to come. */
  #skip = 0;
  /** Header bytes of the next frame seen so far, and their value. */
  #have = 0;
  #length = 0;

  add(chunk: Uint8Array, view: DataView): void {
    const n = chunk.byteLength;
    this.bytes += n;
    let i = 0;
    while (i < n) {
      if (this.#skip > 0) {
        const k = Math.min(this.#skip, n - i);
        this.#skip -= k;
        i += k;
      } else if (this.#have === 0 && n - i >= 4) {
        this.#skip = view.getUint32(i);
        this.frames++;
        i += 4;
      } else {
        this.#length = this.#length * 256 + chunk[i++]!;
        if (++this.#have === 4) {
          this.#skip = this.#length;
          this.frames++;
          this.#have = 0;
          this.#length = 0;
        }
      }
    }
  }
}

async function writeAllRaw(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.byteLength;) {
    at += await conn.write(data.subarray(at));
  }
}

async function sink(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(256 * 1024);
  const view = new DataView(buf.buffer);
  const counter = new FrameCounter();
  for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
    counter.add(buf.subarray(0, n), view);
  }
  const reply = new DataView(new ArrayBuffer(16));
  reply.setFloat64(0, counter.bytes);
  reply.setFloat64(8, counter.frames);
  await writeAllRaw(conn, new Uint8Array(reply.buffer));
}

async function echo(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
    await writeAllRaw(conn, buf.subarray(0, n));
  }
}

async function serve(
  listener: Deno.Listener,
  handle: (conn: Deno.Conn) => Promise<void>,
): Promise<void> {
  for await (const conn of listener) {
    handle(conn).catch(() => {
      // A sender that gave up (its case timed out) is not the peer's problem.
    }).finally(() => {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    });
  }
}

const sinkListener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const echoListener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log(JSON.stringify({
  sink: sinkListener.addr.port,
  echo: echoListener.addr.port,
}));
// Bounded: main.ts stops it by PID; this timer ends it if main.ts died.
const lifetime = setTimeout(() => Deno.exit(0), 60 * 60 * 1000);
await Promise.all([serve(sinkListener, sink), serve(echoListener, echo)]);
clearTimeout(lifetime);
