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
