/** Makes a `switch` over a discriminated union exhaustive at compile time, and loud at run time. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
