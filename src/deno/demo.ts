// deno-lint-ignore-file no-console
/**
 * The newcomer's demo: `deno task demo`.
 *
 * Starts the echo server on 127.0.0.1 (a free port) inside this process and
 * runs three client exchanges against it, each showing one lesson of the
 * source document with counts measured on the real connection:
 *
 * 1. small frames are coalesced into one write (`writeFrames`);
 * 2. a multi-MiB frame arrives through many short reads (`--trace`);
 * 3. half-close and the 4-way close, in the order they happen.
 *
 * Then it shuts the server down and exits 0; nothing is left running. It
 * needs only `--allow-net=127.0.0.1`.
 *
 * @module
 */

import { FrameReader, writeFrame, writeFrames } from "../../mod.ts";
import { EchoExchange } from "../echo/exchange.ts";
import { CountingConn, formatIoStats } from "../echo/counting_conn.ts";
import type { EchoLog } from "../echo/log.ts";
import { serveEcho } from "../echo/server.ts";

const HOST = "127.0.0.1";
const SMALL_FRAMES = 100;
const BIG_FRAME = 4 * 1024 * 1024;
const text = new TextEncoder();

async function main(): Promise<void> {
  const started = performance.now();
  const timeline: string[] = [];
  const serverLog: EchoLog = {
    info: (line) => timeline.push(`  server  ${line}`),
    error: (line) => timeline.push(`  server  ${line}`),
  };
  const server = serveEcho(Deno.listen({ hostname: HOST, port: 0 }), {
    maxFrame: 2 * BIG_FRAME,
    log: serverLog,
  });
  const { port } = server.addr as Deno.NetAddr;
  console.log(
    `tcpframe demo: an echo server on ${HOST}:${port} in this process, and three clients.\n`,
  );
  try {
    await coalescing(port);
    await bigFrame(port);
    await halfClose(port, timeline);
  } finally {
    await server.shutdown();
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  console.log(
    `\nDone in ${seconds} s; the server has shut down and nothing is left running.`,
  );
  console.log(
    "Try it by hand: deno task echo server 9000, then deno task echo client 9000 hello --trace",
  );
}

/** Lesson 1: one write per frame, against one write for all of them. */
async function coalescing(port: number): Promise<void> {
  console.log(
    `1. ${SMALL_FRAMES} small frames: TCP has no message boundaries, so batch them.`,
  );
  const payloads = Array.from(
    { length: SMALL_FRAMES },
    (_, i) => text.encode(`message ${String(i).padStart(3, "0")}`),
  );
  for (const batched of [false, true]) {
    const conn = new CountingConn(await connect(port));
    try {
      if (batched) await writeFrames(conn, payloads);
      else for (const payload of payloads) await writeFrame(conn, payload);
      await conn.closeWrite();
      let echoes = 0;
      for await (const _ of new FrameReader(conn)) echoes++;
      const { writes, bytesWritten, reads } = conn.stats;
      console.log(
        `   ${batched ? "writeFrames():        " : "writeFrame() each time:"} ${
          pad(writes)
        } write ${
          writes === 1 ? "call " : "calls"
        } for ${bytesWritten} bytes; ${echoes} echoes came back in ${reads} reads`,
      );
    } finally {
      conn.close();
    }
  }
  console.log(
    "   One write instead of 100: one system call, and no tiny segments for\n" +
      "   Nagle's algorithm to hold back. The reader gets many frames per read.\n",
  );
}

/** Lesson 2: one frame, many reads. */
async function bigFrame(port: number): Promise<void> {
  const mib = BIG_FRAME / (1024 * 1024);
  console.log(
    `2. One ${mib} MiB frame: one send is not one recv.`,
  );
  const conn = new CountingConn(await connect(port));
  try {
    const exchange = new EchoExchange(
      conn,
      { kind: "generated", size: BIG_FRAME, count: 1 },
      { maxFrame: BIG_FRAME },
    );
    const result = await exchange.run();
    if (result.outcome !== "ok") throw new Error(result.message);
    for (
      const line of formatIoStats(
        conn.stats,
        result.framesSent,
        result.framesEchoed,
      )
    ) console.log(`   ${line}`);
    const { reads, bytesRead, writes, shortWrites } = conn.stats;
    const echoReads = reads - 1; // the last read is the end of stream
    const average = Math.round(bytesRead / echoReads / 1024);
    console.log(
      `   One frame went out in ${writes} writes (${shortWrites} short) and came back\n` +
        `   in ${echoReads} reads of ${average} KiB on average: writeAll and FrameReader\n` +
        "   loop until every byte is there. The checksum matched.\n",
    );
  } finally {
    conn.close();
  }
}

/** Lesson 3: the client's FIN, the server's echoes and FIN, the close. */
async function halfClose(port: number, timeline: string[]): Promise<void> {
  console.log("3. Half-close and the 4-way close, in the order they happened:");
  timeline.length = 0;
  const client = (line: string) => timeline.push(`  client  ${line}`);
  const conn = await connect(port);
  try {
    await writeFrames(conn, ["one", "two", "three"].map((s) => text.encode(s)));
    client("wrote 3 frames in one write");
    await conn.closeWrite();
    client("closeWrite(): FIN sent; the client can still read");
    const frames = new FrameReader(conn);
    const decoder = new TextDecoder();
    for (let frame; (frame = await frames.read()) !== null;) {
      client(`read echo "${decoder.decode(frame)}"`);
    }
    client("read end of stream: the server's FIN, after its echoes");
  } finally {
    conn.close();
    client("close(): both directions closed");
  }
  // The server logs [done] once it has closed its side; wait for that line.
  for (let i = 0; i < 200 && !timeline.some((l) => l.includes("[done]")); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  for (const line of timeline) console.log(` ${line}`);
  console.log(
    "   A half-closed connection still carries data the other way: the echoes\n" +
      "   came back after the client's FIN, and the server sent its own FIN only\n" +
      "   after reading the client's and sending every echo ([done]). They waited\n" +
      "   in the client's receive buffer until it read them.",
  );
}

async function connect(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: HOST, port });
  conn.setNoDelay(true);
  return conn;
}

function pad(n: number): string {
  return String(n).padStart(3);
}

if (import.meta.main) await main();
