// Deno tests that need the source document's C++23 reference echo: each one
// is registered as ignored, with the reason in its name, where it cannot be
// built (no g++, or no C++23).
import { buildReferenceEcho } from "../_cpp_echo.ts";

/** The reference echo's binary, or why it could not be built. */
export const built = await buildReferenceEcho();

/** Registers `fn` with the reference echo's path, or as a visible skip. */
export function cppTest(
  name: string,
  fn: (path: string) => Promise<void>,
): void {
  if ("skip" in built) {
    Deno.test({
      name: `${name} (skipped: ${built.skip})`,
      ignore: true,
      fn() {},
    });
  } else {
    Deno.test(name, () => fn(built.path));
  }
}
