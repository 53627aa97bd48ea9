import { test } from "node:test";
import assert from "node:assert/strict";
import { parseEchoArgs, UsageError } from "../../src/echo/args.ts";
import { usage } from "../../src/echo/usage.ts";

test("parseEchoArgs() reads the source's server command line with defaults", () => {
  assert.deepEqual(parseEchoArgs(["server", "0.0.0.0", "9000"]), {
    mode: "server",
    host: "0.0.0.0",
    port: 9000,
    maxFrame: 1_048_576,
    idleTimeoutMs: 30_000,
    maxConns: 1024,
    frameTimeoutMs: 30_000,
    minRate: 0,
    proxyProtocol: undefined,
    reusePort: false,
  });
});

test("parseEchoArgs() defaults the host to 127.0.0.1 and allows port 0 for a server", () => {
  assert.deepEqual(
    parseEchoArgs(["server", "0"]),
    parseEchoArgs(["server", "127.0.0.1", "0"]),
  );
});

test("parseEchoArgs() takes flags before and after the positionals", () => {
  const before = parseEchoArgs([
    "--max-frame",
    "64",
    "--idle-timeout=0",
    "server",
    "::",
    "9000",
    "--max-conns",
    "2",
  ]);
  assert.deepEqual(before, {
    mode: "server",
    host: "::",
    port: 9000,
    maxFrame: 64,
    idleTimeoutMs: 0,
    maxConns: 2,
    frameTimeoutMs: 30_000,
    minRate: 0,
    proxyProtocol: undefined,
    reusePort: false,
  });
});

test("parseEchoArgs() reads the server's frame deadline, minimum rate, PROXY protocol and port sharing", () => {
  const command = parseEchoArgs([
    "server",
    "9000",
    "--frame-timeout",
    "2000",
    "--min-rate=512",
    "--proxy-protocol",
    "v2",
    "--reuse-port",
  ]);
  assert.ok(command.mode === "server");
  assert.equal(command.frameTimeoutMs, 2000);
  assert.equal(command.minRate, 512);
  assert.equal(command.proxyProtocol, 2);
  assert.equal(command.reusePort, true);
  for (const [flag, expected] of [["v1", 1], ["any", "any"]] as const) {
    const parsed = parseEchoArgs(["server", "9000", "--proxy-protocol", flag]);
    assert.ok(parsed.mode === "server");
    assert.equal(parsed.proxyProtocol, expected);
  }
  for (
    const [argv, message] of [
      [
        ["server", "9000", "--proxy-protocol", "v3"],
        'Invalid --proxy-protocol "v3": expected v1, v2 or any',
      ],
      [
        ["server", "9000", "--frame-timeout", "-1"],
        'Invalid --frame-timeout "-1": expected an integer from 0 to 2147483647',
      ],
      [
        ["server", "9000", "--min-rate", "fast"],
        'Invalid --min-rate "fast": expected an integer from 0 to 4294967295',
      ],
      [
        ["server", "unix:/tmp/echo.sock", "--reuse-port"],
        "server: --reuse-port is for a TCP port, not a unix:<path>",
      ],
      [
        ["client", "9000", "hi", "--proxy-protocol", "v1"],
        "client: --proxy-protocol is not a client option",
      ],
    ] as const
  ) {
    assert.throws(() => parseEchoArgs(argv), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.equal(error.message, message);
      return true;
    });
  }
});

test("parseEchoArgs() reads a client with several messages", () => {
  assert.deepEqual(
    parseEchoArgs(["client", "127.0.0.1", "9000", "HELLO-WORLD", "two words"]),
    {
      mode: "client",
      host: "127.0.0.1",
      port: 9000,
      source: { kind: "messages", messages: ["HELLO-WORLD", "two words"] },
      maxFrame: 1_048_576,
      timeoutMs: 30_000,
      trace: false,
    },
  );
});

test("parseEchoArgs() treats an all-digit first client argument as the port", () => {
  assert.deepEqual(parseEchoArgs(["client", "9000", "hi", "--trace"]), {
    mode: "client",
    host: "127.0.0.1",
    port: 9000,
    source: { kind: "messages", messages: ["hi"] },
    maxFrame: 1_048_576,
    timeoutMs: 30_000,
    trace: true,
  });
});

test("parseEchoArgs() takes the addresses [listen-ok] prints: [::1], [::1]:9000, host:port", () => {
  const endpoint = (argv: string[]) => {
    const command = parseEchoArgs(argv);
    assert.ok(command.mode !== "help");
    return "path" in command
      ? { path: command.path }
      : { host: command.host, port: command.port };
  };
  const v6 = { host: "::1", port: 9000 };
  assert.deepEqual(endpoint(["client", "[::1]", "9000", "hi"]), v6);
  assert.deepEqual(endpoint(["client", "[::1]:9000", "hi"]), v6);
  assert.deepEqual(endpoint(["client", "::1", "9000", "hi"]), v6);
  assert.deepEqual(endpoint(["server", "[::1]", "9000"]), v6);
  assert.deepEqual(endpoint(["server", "[::1]:0"]), { host: "::1", port: 0 });
  assert.deepEqual(endpoint(["client", "127.0.0.1:9000", "hi"]), {
    host: "127.0.0.1",
    port: 9000,
  });
  assert.deepEqual(endpoint(["client", "localhost:9000", "hi"]), {
    host: "localhost",
    port: 9000,
  });
  // Only the first argument is an address: a later one is a message.
  const command = parseEchoArgs(["client", "[::1]:9000", "[::1]:9000"]);
  assert.ok(command.mode === "client");
  assert.deepEqual(command.source, {
    kind: "messages",
    messages: ["[::1]:9000"],
  });
});

test("parseEchoArgs() reads unix:<path> for a server and a client", () => {
  assert.deepEqual(parseEchoArgs(["server", "unix:/tmp/echo.sock"]), {
    mode: "server",
    path: "/tmp/echo.sock",
    maxFrame: 1_048_576,
    idleTimeoutMs: 30_000,
    maxConns: 1024,
    frameTimeoutMs: 30_000,
    minRate: 0,
    proxyProtocol: undefined,
    reusePort: false,
  });
  assert.deepEqual(
    parseEchoArgs(["client", "unix:./echo.sock", "one", "two", "--trace"]),
    {
      mode: "client",
      path: "./echo.sock",
      source: { kind: "messages", messages: ["one", "two"] },
      maxFrame: 1_048_576,
      timeoutMs: 30_000,
      trace: true,
    },
  );
});

test("parseEchoArgs() reads --size/--count, --stdin and --timeout", () => {
  const generated = parseEchoArgs([
    "client",
    "localhost",
    "9000",
    "--size",
    "1000",
    "--count=5",
    "--timeout",
    "0",
  ]);
  assert.equal(generated.mode, "client");
  if (generated.mode === "client") {
    assert.deepEqual(generated.source, {
      kind: "generated",
      size: 1000,
      count: 5,
    });
    assert.equal(generated.timeoutMs, 0);
  }
  const sized = parseEchoArgs(["client", "9000", "--size", "0"]);
  assert.ok(sized.mode === "client" && sized.source.kind === "generated");
  assert.equal(sized.source.count, 1);
  const stdin = parseEchoArgs(["client", "9000", "--stdin"]);
  assert.ok(stdin.mode === "client");
  assert.deepEqual(stdin.source, { kind: "stdin" });
});

test("parseEchoArgs() passes a message starting with - after --", () => {
  const command = parseEchoArgs(["client", "9000", "--", "-x", "--y"]);
  assert.ok(command.mode === "client");
  assert.deepEqual(command.source, {
    kind: "messages",
    messages: ["-x", "--y"],
  });
});

test("parseEchoArgs() returns help for --help and -h anywhere", () => {
  assert.deepEqual(parseEchoArgs(["--help"]), { mode: "help" });
  assert.deepEqual(parseEchoArgs(["client", "9000", "-h"]), { mode: "help" });
});

const bad: Array<[string[], RegExp]> = [
  [[], /^Missing mode: expected server or client$/],
  [["serve", "9000"], /^Unknown mode "serve"/],
  [["server"], /^server: missing <port>$/],
  [["server", "a", "1", "2"], /^server: too many arguments/],
  [
    ["server", "65536"],
    /^Invalid port "65536": expected an integer from 0 to 65535$/,
  ],
  [["server", "9000", "--max-conns", "0"], /^Invalid --max-conns "0"/],
  [["server", "9000", "--max-frame", "1.5"], /^Invalid --max-frame "1.5"/],
  [
    ["server", "9000", "--idle-timeout", "-1"],
    /^Invalid --idle-timeout "-1": expected an integer from 0 to 2147483647$/,
  ],
  [
    ["server", "9000", "--max-conns", "-1"],
    /^Invalid --max-conns "-1": expected an integer from 1 to 1000000$/,
  ],
  [
    ["server", "9000", "--max-conns", "1e3"],
    /^Invalid --max-conns "1e3": expected an integer from 1 to 1000000$/,
  ],
  [
    ["client", "9000", "--size", "-5", "--max-frame", "10"],
    /^Invalid --size "-5": expected an integer from 0 to 10$/,
  ],
  [
    ["client", "9000", "x", "--timeout", "-0.5"],
    /^Invalid --timeout "-0.5": expected an integer from 0 to 2147483647$/,
  ],
  [["server", "unix:"], /^Invalid address "unix:": expected unix:<path>$/],
  [
    ["server", "unix:/tmp/x.sock", "9000"],
    /^server: too many arguments: expected one address \("unix:\/tmp\/x.sock"\), got 2$/,
  ],
  [
    ["client", "[foo]", "9000", "x"],
    /^Invalid host "\[foo\]": brackets are for an IPv6 address, as in \[::1\]$/,
  ],
  [["client", "[::1", "9000", "x"], /^Invalid host "\[::1"/],
  [
    ["client", "[::1]:0", "x"],
    /^Invalid port "0": expected an integer from 1 to 65535$/,
  ],
  [
    ["client", "[::1]:70000", "x"],
    /^Invalid port "70000": expected an integer from 1 to 65535$/,
  ],
  [["server", "9000", "--trace"], /^server: --trace is not a server option$/],
  [["client", "9000"], /^client: nothing to send/],
  [["client", "localhost"], /^client: missing <port>$/],
  [
    ["client", "0", "x"],
    /^Invalid port "0": expected an integer from 1 to 65535$/,
  ],
  [["client", "9000", "x", "--stdin"], /^client: give only one of/],
  [["client", "9000", "--count", "3"], /^client: --count needs --size$/],
  [
    ["client", "9000", "--size", "10", "--max-frame", "5"],
    /^Invalid --size "10": expected an integer from 0 to 5$/,
  ],
  [
    ["client", "9000", "abcdef", "--max-frame", "5"],
    /^client: message 1 is 6 bytes, over --max-frame 5$/,
  ],
  [
    ["client", "9000", "x", "--max-conns", "3"],
    /^client: --max-conns is not a client option$/,
  ],
  [["client", "9000", "x", "--bogus"], /^Unknown option '--bogus'$/],
  [["client", "9000", "--size"], /^Option '--size <value>' argument missing$/],
  [["server", "", "9000"], /^Host must not be empty$/],
];

for (const [argv, message] of bad) {
  test(`parseEchoArgs() refuses ${JSON.stringify(argv)} with a one-line UsageError`, () => {
    assert.throws(() => parseEchoArgs(argv), (error) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"), error.message);
      return true;
    });
  });
}

test("usage() names both modes, every option and examples", () => {
  const text = usage("deno task echo");
  for (
    const word of [
      "deno task echo server [host] <port>",
      "deno task echo client [host] <port> <message>...",
      "--max-frame",
      "--idle-timeout",
      "--max-conns",
      "--stdin",
      "--size",
      "--count",
      "--timeout",
      "--trace",
      "--help",
      "Examples:",
      "deno task echo server 0.0.0.0 9000",
      "deno task echo server unix:<path>",
      "deno task echo client unix:<path> <message>...",
      "[::1]",
    ]
  ) assert.ok(text.includes(word), word);
});
