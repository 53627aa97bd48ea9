// A throwaway self-signed certificate for 127.0.0.1, made with openssl at
// test time (nothing secret is kept in the repository). Runtime-neutral: the
// TLS tests on Deno and on Node both use it.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A PEM certificate and its private key. */
export interface TestCertificate {
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("openssl", args, { cwd }, (error, _stdout, stderr) => {
      if (error === null) return resolve();
      reject(
        Object.assign(new Error(`openssl failed: ${stderr || error.message}`), {
          code: (error as { code?: unknown }).code,
        }),
      );
    });
  });
}

/**
 * Makes a one-day, self-signed P-256 certificate for `127.0.0.1` and
 * `localhost` in a temporary directory, reads it, and deletes the directory.
 *
 * @returns The certificate, or a string saying why there is none (openssl is
 * not installed), for the test to skip with.
 */
export async function makeTestCertificate(): Promise<TestCertificate | string> {
  const dir = await mkdtemp(join(tmpdir(), "tcpframe-tls-"));
  try {
    await openssl([
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      "key.pem",
      "-out",
      "cert.pem",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ], dir);
    return {
      cert: await readFile(join(dir, "cert.pem"), "utf8"),
      key: await readFile(join(dir, "key.pem"), "utf8"),
    };
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") {
      return "openssl is not installed: it makes the throwaway TLS certificate";
    }
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Frame sizes for the TLS echo: TLS records hold 16 KiB, so many span several. */
export const TLS_FRAME_SIZES: readonly number[] = [
  0,
  1,
  100,
  16_384,
  65_536,
  70_000,
  300_000,
  1_048_576,
];
