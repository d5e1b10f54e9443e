/**
 * jest's asymmetric matchers, typed `unknown`: @types/jest types them `any`, which the typed lint (no-unsafe-*)
 * refuses wherever one is nested in an expected value. They stand for "a value like this", so `unknown` is the
 * honest type; they match exactly as `expect.any` and `expect.stringContaining` do.
 */

/** `expect.any(type)`: any value made by `type` (`String`, `Array`, a class). */
export function expectAny(type: unknown): unknown {
  return expect.any(type);
}

/** `expect.stringContaining(text)`. */
export function expectStringContaining(text: string): unknown {
  return expect.stringContaining(text);
}
