import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AbortedError,
  BrokenPipeError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectionResetError,
  HostNotFoundError,
  normalizeError,
  TcpFrameError,
  TimeoutError,
} from "tcpframe";

function named(name: string): Error {
  const error = new Error(name);
  error.name = name;
  return error;
}

function coded(code: string): Error {
  return Object.assign(new Error(code), { code });
}

const cases: Array<[Error, new (...args: never[]) => TcpFrameError, string]> = [
  [named("ConnectionReset"), ConnectionResetError, "CONNECTION_RESET"],
  [coded("ECONNRESET"), ConnectionResetError, "CONNECTION_RESET"],
  // Deno over TLS: the peer closed without close_notify.
  [named("UnexpectedEof"), ConnectionResetError, "CONNECTION_RESET"],
  [named("BrokenPipe"), BrokenPipeError, "BROKEN_PIPE"],
  [coded("EPIPE"), BrokenPipeError, "BROKEN_PIPE"],
  [named("ConnectionRefused"), ConnectionRefusedError, "CONNECTION_REFUSED"],
  [coded("ECONNREFUSED"), ConnectionRefusedError, "CONNECTION_REFUSED"],
  [named("Interrupted"), ConnectionClosedError, "CONNECTION_CLOSED"],
  [named("BadResource"), ConnectionClosedError, "CONNECTION_CLOSED"],
  [coded("ERR_STREAM_DESTROYED"), ConnectionClosedError, "CONNECTION_CLOSED"],
  [named("TimedOut"), TimeoutError, "TIMEOUT"],
  [coded("ETIMEDOUT"), TimeoutError, "TIMEOUT"],
  [new DOMException("late", "TimeoutError"), TimeoutError, "TIMEOUT"],
  [new DOMException("stop", "AbortError"), AbortedError, "ABORTED"],
  [coded("ENOTFOUND"), HostNotFoundError, "HOST_NOT_FOUND"],
  [coded("EAI_AGAIN"), HostNotFoundError, "HOST_NOT_FOUND"],
  [coded("EAI_FAIL"), HostNotFoundError, "HOST_NOT_FOUND"],
  // Deno.connect() to a name that does not resolve.
  [
    new Error(
      "failed to lookup address information: Name or service not known",
    ),
    HostNotFoundError,
    "HOST_NOT_FOUND",
  ],
];

for (const [input, Class, code] of cases) {
  test(`normalizeError() maps ${input.name}${"code" in input ? ` ${input.code}` : ""} to ${Class.name}`, () => {
    const mapped = normalizeError(input);
    assert.ok(mapped instanceof Class);
    assert.ok(mapped instanceof TcpFrameError);
    assert.ok(mapped instanceof Error);
    assert.equal(mapped.code, code);
    assert.equal(mapped.cause, input);
  });
}

test("normalizeError() returns unknown errors and non-errors unchanged", () => {
  const plain = new Error("x");
  assert.equal(normalizeError(plain), plain);
  assert.equal(normalizeError("text"), "text");
  const already = new TimeoutError("Idle for 5 ms");
  assert.equal(normalizeError(already), already);
});

test("TcpFrameError subclasses carry their class name", () => {
  assert.equal(new ConnectionResetError().name, "ConnectionResetError");
  assert.equal(new TimeoutError().name, "TimeoutError");
  assert.match(String(new BrokenPipeError()), /^BrokenPipeError: /);
});

test("normalizeError() names the host and the reason of a failed lookup", () => {
  const node = Object.assign(
    new Error("getaddrinfo EAI_AGAIN slow.invalid"),
    { code: "EAI_AGAIN", hostname: "slow.invalid" },
  );
  assert.equal(
    (normalizeError(node) as Error).message,
    "Host not found: slow.invalid (EAI_AGAIN)",
  );
  const deno = new Error(
    "failed to lookup address information: Temporary failure in name resolution",
  );
  assert.equal(
    (normalizeError(deno) as Error).message,
    "Host not found (failed to lookup address information: Temporary failure in name resolution)",
  );
});
