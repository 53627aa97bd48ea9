import { test } from "node:test";
import assert from "node:assert/strict";
import {
  encodeProxyHeaderV1,
  FrameReader,
  writeAll,
  writeFrame,
} from "tcpframe";
import { runCli } from "../../src/echo/cli.ts";
import { ProgressLine } from "../../src/echo/_progress.ts";
import { splitLines } from "../../src/echo/lines.ts";
import { MemoryRuntime, TextSink, until } from "./_memory.ts";

/**
 * Starts `server 10.0.0.1 0` on `runtime`; `exit` settles with its exit
 * code after `runtime.signal()`.
 */
async function startServer(
  runtime: MemoryRuntime,
): Promise<{ exit: Promise<number> }> {
  const exit = runCli(["server", "10.0.0.1", "0"], runtime);
  await until(() => runtime.stdout.text.includes("[listen-ok]"));
  return { exit };
}

test("runCli() prints the usage for --help and exits 0", async () => {
  const runtime = new MemoryRuntime();
  assert.equal(await runCli(["--help"], runtime), 0);
  assert.match(runtime.stdout.text, /^Usage:\n {2}echo server \[host\] <port>/);
  assert.equal(runtime.stderr.text, "");
});

test("runCli() prints one error line and the usage for bad arguments, and exits 2", async () => {
  for (
    const argv of [
      [],
      ["client", "9000"],
      ["server", "99999"],
      ["server", "1", "--nope"],
    ]
  ) {
    const runtime = new MemoryRuntime();
    assert.equal(await runCli(argv, runtime), 2, argv.join(" "));
    const [first, blank, usage] = runtime.stderr.text.split("\n");
    assert.match(first!, /^error: \S/);
    assert.equal(blank, "");
    assert.equal(usage, "Usage:");
    assert.equal(runtime.stdout.text, "");
  }
});

test("runCli() runs a server and a client with the source's log lines", async () => {
  const runtime = new MemoryRuntime();
  const serving = (await startServer(runtime)).exit;
  const code = await runCli(
    ["client", "10.0.0.1", "9000", "HELLO-WORLD", "second"],
    runtime,
  );
  assert.equal(code, 0, runtime.stderr.text);
  await until(() => runtime.stdout.text.includes("[done]"));
  runtime.signal(); // SIGINT
  assert.equal(await serving, 0);
  const lines = runtime.stdout.lines.map((l) => l.replace(/:4\d{4}/, ":PORT"));
  // Server and client share one log here: each side's lines in order.
  const client = ["[connected]", "[echoed]"];
  assert.deepEqual(
    lines.filter((l) => client.some((c) => l.startsWith(c))),
    [
      "[connected] 10.0.0.1:9000",
      "[echoed] HELLO-WORLD",
      "[echoed] second",
    ],
  );
  assert.deepEqual(
    lines.filter((l) => !client.some((c) => l.startsWith(c))),
    [
      "[listen-ok] 10.0.0.1:9000",
      "[accept] peer=10.0.0.2:PORT",
      "[done] peer=10.0.0.2:PORT echoed 17 bytes in 2 frames",
      "[shutdown] stopped accepting; 0 open connections get 2000 ms to finish",
      "[shutdown] done",
    ],
  );
  assert.equal(runtime.stderr.text, "");
});

test("runCli() server --proxy-protocol logs the client's address from the header and refuses a connection without one", async () => {
  const runtime = new MemoryRuntime();
  const serving = runCli(
    ["server", "10.0.0.1", "0", "--proxy-protocol", "v1", "--reuse-port"],
    runtime,
  );
  await until(() => runtime.stdout.text.includes("[listen-ok]"));
  assert.deepEqual(runtime.listenOptions, [{ reusePort: true }]);
  const balancer = await runtime.connect("10.0.0.1", 9000);
  await writeAll(
    balancer,
    encodeProxyHeaderV1({
      source: { transport: "tcp", hostname: "192.0.2.7", port: 56324 },
      destination: { transport: "tcp", hostname: "10.0.0.1", port: 9000 },
    }),
  );
  await writeFrame(balancer, new TextEncoder().encode("hi"));
  await balancer.closeWrite();
  const echoes = [];
  for await (const frame of new FrameReader(balancer)) echoes.push(frame);
  assert.deepEqual(echoes, [new TextEncoder().encode("hi")]);
  const direct = await runtime.connect("10.0.0.1", 9000);
  await writeFrame(direct, new TextEncoder().encode("no header"));
  assert.equal(await direct.read(new Uint8Array(8)), null); // closed
  await until(() => runtime.stderr.text.includes("INVALID_PROXY_HEADER"));
  runtime.signal();
  assert.equal(await serving, 0);
  assert.ok(
    runtime.stdout.lines.includes(
      "[done] peer=192.0.2.7:56324 echoed 2 bytes in 1 frames",
    ),
    runtime.stdout.text,
  );
  assert.ok(runtime.stdout.lines.includes("[accept] peer=192.0.2.7:56324"));
  assert.match(
    runtime.stderr.lines[0]!,
    /^\[error\] peer=10\.0\.0\.2:\d+ INVALID_PROXY_HEADER: /,
  );
});

test("runCli() serves and dials a Unix socket path, printing unix:<path>", async () => {
  const runtime = new MemoryRuntime();
  const serving = runCli(["server", "unix:/run/echo.sock"], runtime);
  await until(() => runtime.stdout.text.includes("[listen-ok]"));
  const code = await runCli(
    ["client", "unix:/run/echo.sock", "HELLO-WORLD"],
    runtime,
  );
  assert.equal(code, 0, runtime.stderr.text);
  await until(() => runtime.stdout.text.includes("[done]"));
  runtime.signal();
  assert.equal(await serving, 0);
  assert.deepEqual(runtime.stdout.lines.slice(0, 5), [
    "[listen-ok] unix:/run/echo.sock",
    "[connected] unix:/run/echo.sock",
    "[accept] peer=unix:(unnamed)",
    "[echoed] HELLO-WORLD",
    "[done] peer=unix:(unnamed) echoed 11 bytes in 1 frames",
  ]);
  assert.equal(runtime.stderr.text, "");
});

test("runCli() exits 1 when a Unix socket path cannot be served or dialled", async () => {
  const runtime = new MemoryRuntime();
  assert.equal(await runCli(["client", "unix:/run/none", "x"], runtime), 1);
  assert.deepEqual(runtime.stderr.lines, [
    "[connect-fail] No such file or directory (os error 2) to unix:/run/none",
    "[error] connect: Cannot connect to unix:/run/none: No such file or directory (os error 2)",
  ]);
  const taken = new MemoryRuntime();
  await taken.listenUnix("/run/taken");
  assert.equal(await runCli(["server", "unix:/run/taken"], taken), 1);
  assert.deepEqual(taken.stderr.lines, [
    "[bind-fail] Address already in use (os error 98) -> unix:/run/taken",
    "[error] listen: cannot listen on unix:/run/taken",
  ]);
});

test("runCli() names the flag and the value of a negative number", async () => {
  const runtime = new MemoryRuntime();
  assert.equal(
    await runCli(["server", "9000", "--max-conns", "-1"], runtime),
    2,
  );
  assert.equal(
    runtime.stderr.text.split("\n")[0],
    'error: Invalid --max-conns "-1": expected an integer from 1 to 1000000',
  );
});

test("runCli() client tries every address in turn, IPv6 in brackets", async () => {
  const runtime = new MemoryRuntime();
  runtime.hosts["dual.example"] = ["::1", "10.0.0.1"];
  const serving = (await startServer(runtime)).exit;
  const code = await runCli(["client", "dual.example", "9000", "x"], runtime);
  assert.equal(code, 0);
  assert.equal(
    runtime.stderr.text,
    "[connect-fail] Connection refused to [::1]:9000\n",
  );
  assert.ok(runtime.stdout.lines.includes("[connected] 10.0.0.1:9000"));
  runtime.signal();
  await serving;
});

test("runCli() client exits 1 when nothing accepts or the name does not resolve", async () => {
  const runtime = new MemoryRuntime();
  assert.equal(await runCli(["client", "10.0.0.1", "9", "x"], runtime), 1);
  assert.deepEqual(runtime.stderr.lines, [
    "[connect-fail] Connection refused to 10.0.0.1:9",
    "[error] connect: Cannot connect to 10.0.0.1 port 9: the address failed",
  ]);
  const unknown = new MemoryRuntime();
  assert.equal(await runCli(["client", "nowhere", "9", "x"], unknown), 1);
  assert.deepEqual(unknown.stderr.lines, [
    "[error] connect: Cannot resolve nowhere: host not found",
  ]);
});

test("runCli() client exits 2 when sending fails", async () => {
  const runtime = new MemoryRuntime();
  const serving = (await startServer(runtime)).exit;
  runtime.onDial = (client) => {
    client.writeGate = Promise.reject(
      Object.assign(new Error("Broken pipe"), { name: "BrokenPipe" }),
    );
    client.writeGate.catch(() => {});
  };
  assert.equal(await runCli(["client", "10.0.0.1", "9000", "x"], runtime), 2);
  assert.match(runtime.stderr.text, /^\[error\] send: BROKEN_PIPE: /m);
  runtime.signal();
  await serving;
});

test("runCli() client exits 2 when the deadline passes while sending", async () => {
  const runtime = new MemoryRuntime();
  const serving = (await startServer(runtime)).exit;
  runtime.onDial = (client) => void (client.writeGate = new Promise(() => {}));
  const code = await runCli(
    ["client", "10.0.0.1", "9000", "x", "--timeout", "20"],
    runtime,
  );
  assert.equal(code, 2);
  assert.match(
    runtime.stderr.text,
    /^\[error\] send: TIMEOUT: Deadline of 20 ms passed \(--timeout\) \(after sending 0 of 1 frames\)$/m,
  );
  runtime.signal();
  runtime.signal(); // a second signal closes the stuck connection at once
  assert.equal(await serving, 0);
});

test("runCli() client exits 3 when fewer echoes come back than were sent", async () => {
  const runtime = new MemoryRuntime();
  const listener = await runtime.listen("10.0.0.1", 7000);
  const serving = (async () => {
    const conn = await listener.accept(); // echo.cpp: one frame, then FIN
    const frame = await new FrameReader(conn).read();
    await writeFrame(conn, frame!);
    await conn.closeWrite();
    conn.close();
  })();
  const code = await runCli(["client", "10.0.0.1", "7000", "a", "b"], runtime);
  await serving;
  assert.equal(code, 3);
  assert.deepEqual(runtime.stdout.lines, [
    "[connected] 10.0.0.1:7000",
    "[echoed] a",
  ]);
  assert.deepEqual(runtime.stderr.lines, [
    "[error] receive: Server closed the connection after echoing 1 of 2 frames",
  ]);
});

test("runCli() client with --size/--count verifies by checksum and --trace prints I/O counts", async () => {
  const runtime = new MemoryRuntime();
  const serving = (await startServer(runtime)).exit;
  const code = await runCli(
    ["client", "10.0.0.1", "9000", "--size", "1000", "--count", "3", "--trace"],
    runtime,
  );
  assert.equal(code, 0, runtime.stderr.text);
  const lines = runtime.stdout.lines;
  assert.match(
    lines.find((l) => l.startsWith("[verified]"))!,
    /^\[verified\] 3 frames of 1000 bytes echoed intact \(FNV-1a checksums match\) in \d+\.\d{3} s, [\d.]+ MiB\/s$/,
  );
  // The first frame goes out at once; the two queued behind it, together.
  assert.equal(
    lines.find((l) => l.startsWith("[trace] writes"))!,
    "[trace] writes: 2 calls (0 short), 3012 bytes, 3 frames",
  );
  assert.match(
    lines.find((l) => l.startsWith("[trace] reads"))!,
    /^\[trace\] reads: \d+ calls \(\d+ short\), 3012 bytes, 3 frames$/,
  );
  runtime.signal();
  await serving;
});

test("runCli() client with --stdin sends one frame per line", async () => {
  const runtime = new MemoryRuntime();
  runtime.stdin = ["one", "", "three"];
  const serving = (await startServer(runtime)).exit;
  assert.equal(
    await runCli(["client", "10.0.0.1", "9000", "--stdin"], runtime),
    0,
  );
  assert.deepEqual(
    runtime.stdout.lines.filter((l) => l.startsWith("[echoed]")),
    ["[echoed] one", "[echoed] ", "[echoed] three"],
  );
  runtime.signal();
  await serving;
});

test("runCli() server exits 1 when no address can be bound, after a [bind-fail] line each", async () => {
  const runtime = new MemoryRuntime();
  runtime.hosts["both"] = ["::1", "10.0.0.9"];
  runtime.unbindable = new Set(["::1", "10.0.0.9"]);
  assert.equal(await runCli(["server", "both", "9000"], runtime), 1);
  assert.deepEqual(runtime.stderr.lines, [
    "[bind-fail] Cannot assign requested address -> [::1]:9000",
    "[bind-fail] Cannot assign requested address -> 10.0.0.9:9000",
    "[error] listen: cannot listen on both:9000",
  ]);
});

test("runCli() server binds the next address when the first fails", async () => {
  const runtime = new MemoryRuntime();
  runtime.hosts["both"] = ["::1", "10.0.0.1"];
  runtime.unbindable = new Set(["::1"]);
  const serving = runCli(["server", "both", "0"], runtime);
  await until(() => runtime.stdout.text.includes("[listen-ok]"));
  assert.equal(runtime.stdout.lines[0], "[listen-ok] 10.0.0.1:9000");
  runtime.signal();
  assert.equal(await serving, 0);
});

test("ProgressLine draws in place after its delay and erases itself", async () => {
  const out = new TextSink();
  let n = 0;
  const progress = new ProgressLine(out, () => `step ${++n}`, {
    delayMs: 0,
    intervalMs: 1,
  });
  await until(() => n >= 2);
  progress.stop();
  assert.ok(
    out.text.startsWith("\rstep 1\x1b[K\rstep 2\x1b[K"),
    JSON.stringify(out.text),
  );
  assert.ok(out.text.endsWith("\r\x1b[K"));
  const quiet = new TextSink();
  new ProgressLine(quiet, () => "never", { delayMs: 10_000 }).stop();
  assert.equal(quiet.text, "");
});

test("splitLines() splits on \\n and \\r\\n across chunks", async () => {
  async function* chunks() {
    yield "a\r";
    yield "\nb\n";
    yield "";
    yield "c";
  }
  assert.deepEqual(await Array.fromAsync(splitLines(chunks())), [
    "a",
    "b",
    "c",
  ]);
});
