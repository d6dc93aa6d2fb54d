/**
 * A tiny structural validator for messages that cross a process or webview boundary.
 * Each check returns an error string naming the offending path, or undefined when the value fits.
 */
export type Check = (value: unknown, path: string) => string | undefined;

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export const str: Check = (v, p) => (typeof v === 'string' ? undefined : `${p} should be a string, got ${describe(v)}`);
export const num: Check = (v, p) =>
  typeof v === 'number' && !Number.isNaN(v) ? undefined : `${p} should be a number, got ${describe(v)}`;
export const bool: Check = (v, p) => (typeof v === 'boolean' ? undefined : `${p} should be a boolean, got ${describe(v)}`);
/** Accepts anything; for payloads whose shape the receiver does not depend on. */
export const unknownValue: Check = () => undefined;

/** A finite number within [min, max] (either bound optional). */
export function numberIn(min?: number, max?: number): Check {
  return (v, p) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return `${p} should be a number, got ${describe(v)}`;
    if (min !== undefined && v < min) return `${p} should be at least ${min}, got ${v}`;
    if (max !== undefined && v > max) return `${p} should be at most ${max}, got ${v}`;
    return undefined;
  };
}

/** A whole number within [min, max] (either bound optional). */
export function int(min?: number, max?: number): Check {
  const range = numberIn(min, max);
  return (v, p) => range(v, p) ?? (Number.isInteger(v) ? undefined : `${p} should be a whole number, got ${String(v)}`);
}

/** A string with at least one character (a path, a name). */
export const nonEmpty: Check = (v, p) => str(v, p) ?? ((v as string).length > 0 ? undefined : `${p} should not be empty`);

export function literal(...allowed: readonly (string | number | boolean | null)[]): Check {
  return (v, p) => (allowed.includes(v as never) ? undefined : `${p} should be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
}

export function optional(check: Check): Check {
  return (v, p) => (v === undefined ? undefined : check(v, p));
}

export function nullable(check: Check): Check {
  return (v, p) => (v === null ? undefined : check(v, p));
}

export function arrayOf(check: Check): Check {
  return (v, p) => {
    if (!Array.isArray(v)) return `${p} should be an array, got ${describe(v)}`;
    for (let i = 0; i < v.length; i++) {
      const err = check(v[i], `${p}[${i}]`);
      if (err) return err;
    }
    return undefined;
  };
}

export function recordOf(check: Check): Check {
  return (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${p} should be an object, got ${describe(v)}`;
    for (const [k, item] of Object.entries(v)) {
      const err = check(item, `${p}.${k}`);
      if (err) return err;
    }
    return undefined;
  };
}

export function obj(fields: Readonly<Record<string, Check>>): Check {
  return (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${p} should be an object, got ${describe(v)}`;
    const rec = v as Record<string, unknown>;
    for (const [k, check] of Object.entries(fields)) {
      const err = check(rec[k], `${p}.${k}`);
      if (err) return err;
    }
    return undefined;
  };
}

/**
 * Like `obj`, and refuses fields it does not know: where a message says what to do (a job's options, a
 * request from a webview), an unexpected field is a sender bug or an attempt to slip something past.
 */
export function exact(fields: Readonly<Record<string, Check>>): Check {
  const known = obj(fields);
  return (v, p) => {
    const err = known(v, p);
    if (err) return err;
    const extra = Object.keys(v as object).filter((k) => !(k in fields));
    return extra.length ? `${p} has unexpected field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `"${k}"`).join(', ')}` : undefined;
  };
}

/** Check for every field of T, so that a field added to the type without a check does not compile. */
export type FieldChecks<T> = { readonly [K in keyof Required<T>]: Check };

/** An array with at least `min` items, each passing `check`. */
export function arrayOfAtLeast(min: number, check: Check): Check {
  const items = arrayOf(check);
  return (v, p) => items(v, p) ?? ((v as unknown[]).length >= min ? undefined : `${p} should have at least ${min} item${min === 1 ? '' : 's'}`);
}

export type Validated<T> = { ok: true; value: T } | { ok: false; error: string };

/** Validates a `{ type: … }` message against the schema registered for its type. */
export function validateTagged<T extends { type: string }>(
  schemas: Readonly<Record<T['type'], Check>>,
  value: unknown,
  what: string,
): Validated<T> {
  if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') {
    return { ok: false, error: `${what} has no string "type" field` };
  }
  const type = (value as { type: string }).type;
  const check = (schemas as Record<string, Check | undefined>)[type];
  if (!check) return { ok: false, error: `${what} has unknown type "${type}"` };
  const err = check(value, type);
  return err ? { ok: false, error: `${what} is malformed: ${err}` } : { ok: true, value: value as T };
}
