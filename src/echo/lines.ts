/**
 * Splitting text into lines, for the client's `--stdin`.
 *
 * @module
 */

/**
 * Splits a stream of text chunks into lines, without their `\n` or `\r\n`.
 * A last line without a newline is a line too; an empty stream has none.
 *
 * @param chunks Decoded text, in any chunking.
 * @returns The lines, as soon as each is complete.
 *
 * @example
 * ```ts
 * import { splitLines } from "./lines.ts";
 * import assert from "node:assert/strict";
 *
 * async function* chunks() {
 *   yield "one\r\ntw";
 *   yield "o\n\nthree";
 * }
 * assert.deepEqual(await Array.fromAsync(splitLines(chunks())), [
 *   "one", "two", "", "three",
 * ]);
 * ```
 */
export async function* splitLines(
  chunks: AsyncIterable<string>,
): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of chunks) {
    rest += chunk;
    let newline: number;
    while ((newline = rest.indexOf("\n")) >= 0) {
      const end = newline > 0 && rest[newline - 1] === "\r"
        ? newline - 1
        : newline;
      yield rest.slice(0, end);
      rest = rest.slice(newline + 1);
    }
  }
  if (rest !== "") yield rest;
}
