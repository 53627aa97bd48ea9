import { test } from "node:test";
import assert from "node:assert/strict";
import { formatAddress } from "../../src/echo/_address.ts";

test("formatAddress() prints IPv4, bracketed IPv6 and Unix socket paths", () => {
  assert.equal(
    formatAddress({ transport: "tcp", hostname: "127.0.0.1", port: 9000 }),
    "127.0.0.1:9000",
  );
  assert.equal(
    formatAddress({ transport: "tcp", hostname: "::1", port: 9000 }),
    "[::1]:9000",
  );
  assert.equal(
    formatAddress({ transport: "unix", path: "/tmp/echo.sock" }),
    "unix:/tmp/echo.sock",
  );
});

test("formatAddress() prints an unnamed Unix socket (Node: empty path, Deno: null) and unknown addresses", () => {
  assert.equal(
    formatAddress({ transport: "unix", path: "" }),
    "unix:(unnamed)",
  );
  const deno = { transport: "unix", path: null } as unknown as {
    transport: string;
  };
  assert.equal(formatAddress(deno), "unix:(unnamed)");
  assert.equal(formatAddress(undefined), "(unknown)");
  assert.equal(formatAddress({ transport: "vsock" }), "(unknown)");
});
