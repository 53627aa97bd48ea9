// deno-lint-ignore-file no-console -- a benchmark prints its report
// First-cut framing benchmark on Deno: raw Deno.Conn throughput beside
// writeFrame + FrameReader, for 1 MiB and 64 B frames, on loopback, in one
// process. Prints medians of several repetitions and the ratios to raw.
//
//   deno task bench            (or: deno run -A scripts/bench/deno_framing.ts)
import {
  encodeFrame,
  FrameDecoderStream,
  FrameReader,
  readFrame,
  writeAll,
  writeFrame,
} from "../../mod.ts";

const REPS = Number(Deno.env.get("BENCH_REPS") ?? 5);
const MB = 1024 * 1024;

async function pair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [a, b] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  a.setNoDelay(true);
  b.setNoDelay(true);
  return [a, b];
}

/** Times `receive` while `send` runs on the other end; returns seconds. */
async function timed(
  send: (w: Deno.TcpConn) => Promise<void>,
  receive: (r: Deno.TcpConn) => Promise<void>,
): Promise<number> {
  const [a, b] = await pair();
  const t0 = performance.now();
  await Promise.all([send(a).then(() => a.closeWrite()), receive(b)]);
  const seconds = (performance.now() - t0) / 1000;
  for (const conn of [a, b]) {
    try {
      conn.close();
    } catch (error) {
      // Draining conn.readable to its end already closed the connection.
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }
  return seconds;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[s.length >> 1]!;
}

async function rawBytes(total: number, chunk: Uint8Array): Promise<number> {
  return await timed(
    async (w) => {
      for (let sent = 0; sent < total; sent += chunk.byteLength) {
        await writeAll(w, chunk);
      }
    },
    async (r) => {
      const buf = new Uint8Array(256 * 1024);
      let got = 0;
      while (got < total) {
        const n = await r.read(buf);
        if (n === null) throw new Error("early EOF");
        got += n;
      }
    },
  );
}

interface Row {
  name: string;
  seconds: number;
  bytes: number;
  frames: number;
}

async function bench(): Promise<Row[]> {
  const rows: Row[] = [];
  const add = async (
    name: string,
    bytes: number,
    frames: number,
    run: () => Promise<number>,
  ) => {
    const times: number[] = [];
    for (let i = 0; i < REPS; i++) times.push(await run());
    rows.push({ name, seconds: median(times), bytes, frames });
  };

  // 1 MiB frames.
  const bigCount = 256;
  const big = new Uint8Array(MB).fill(7);
  await add(
    "raw Deno.Conn, 1 MiB writes",
    bigCount * MB,
    bigCount,
    () => rawBytes(bigCount * MB, big),
  );
  await add(
    "writeFrame + FrameReader, 1 MiB",
    bigCount * MB,
    bigCount,
    () =>
      timed(
        async (w) => {
          for (let i = 0; i < bigCount; i++) await writeFrame(w, big);
        },
        async (r) => {
          const frames = new FrameReader(r);
          for (let i = 0; i < bigCount; i++) {
            if ((await frames.read()) === null) throw new Error("early EOF");
          }
        },
      ),
  );
  await add(
    "writeFrame + FrameReader (borrowFrames), 1 MiB",
    bigCount * MB,
    bigCount,
    () =>
      timed(
        async (w) => {
          for (let i = 0; i < bigCount; i++) await writeFrame(w, big);
        },
        async (r) => {
          const frames = new FrameReader(r, { borrowFrames: true });
          for (let i = 0; i < bigCount; i++) {
            if ((await frames.read()) === null) throw new Error("early EOF");
          }
        },
      ),
  );
  await add(
    "writeFrame + readFrame, 1 MiB",
    bigCount * MB,
    bigCount,
    () =>
      timed(
        async (w) => {
          for (let i = 0; i < bigCount; i++) await writeFrame(w, big);
        },
        async (r) => {
          for (let i = 0; i < bigCount; i++) {
            if ((await readFrame(r)) === null) throw new Error("early EOF");
          }
        },
      ),
  );

  // 64 B frames: the same pre-encoded bytes, read raw or decoded.
  const smallCount = 2048 * 1024; // a whole number of chunks
  const perChunk = 1024;
  const one = encodeFrame(new Uint8Array(64).fill(1));
  const chunk = new Uint8Array(one.byteLength * perChunk);
  for (let i = 0; i < perChunk; i++) chunk.set(one, i * one.byteLength);
  const smallBytes = smallCount * one.byteLength;
  const sendChunks = async (w: Deno.TcpConn) => {
    for (let i = 0; i < smallCount / perChunk; i++) await writeAll(w, chunk);
  };
  await add(
    "raw Deno.Conn, same bytes as 64 B frames",
    smallBytes,
    smallCount,
    () => rawBytes(smallBytes, chunk),
  );
  await add(
    "FrameReader iteration, 64 B",
    smallBytes,
    smallCount,
    () =>
      timed(sendChunks, async (r) => {
        let n = 0;
        for await (const _ of new FrameReader(r)) n++;
        if (n !== smallCount) throw new Error(`got ${n} frames`);
      }),
  );
  await add(
    "FrameReader iteration (borrowFrames), 64 B",
    smallBytes,
    smallCount,
    () =>
      timed(sendChunks, async (r) => {
        let n = 0;
        for await (const _ of new FrameReader(r, { borrowFrames: true })) n++;
        if (n !== smallCount) throw new Error(`got ${n} frames`);
      }),
  );
  await add(
    "conn.readable + FrameDecoderStream, 64 B",
    smallBytes,
    smallCount,
    () =>
      timed(sendChunks, async (r) => {
        let n = 0;
        for await (
          const _ of r.readable.pipeThrough(new FrameDecoderStream())
        ) n++;
        if (n !== smallCount) throw new Error(`got ${n} frames`);
      }),
  );
  return rows;
}

const rows = await bench();
const raw1m = rows[0]!;
const raw64 = rows.find((row) => row.frames !== raw1m.frames)!;
console.log(
  `tcpframe framing bench, Deno ${Deno.version.deno}, ${Deno.build.target}, ${REPS} reps (median), ${
    new Date().toISOString().slice(0, 10)
  }`,
);
console.log("| case | MB/s | frames/s | vs raw |");
console.log("| --- | ---: | ---: | ---: |");
for (const row of rows) {
  const base = row.frames === raw1m.frames ? raw1m : raw64;
  const ratio = base.seconds / row.seconds;
  console.log(
    `| ${row.name} | ${(row.bytes / MB / row.seconds).toFixed(0)} | ${
      (row.frames / row.seconds).toLocaleString("en-US", {
        maximumFractionDigits: 0,
      })
    } | ${ratio.toFixed(2)}x |`,
  );
}
