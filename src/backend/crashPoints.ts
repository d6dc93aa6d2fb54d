/**
 * Test hook: `LESION_LAB_TEST_SIGKILL_AT=name@n[,name@n…]` kills this process with SIGKILL the n-th time it
 * passes the named point, so tests can crash a real run exactly where a timed kill rarely lands (between the
 * best and the last checkpoint, half-way through swapping a directory in) and check what --resume makes of it.
 * Unset, it costs one environment lookup.
 */
const passed = new Map<string, number>();

export type CrashPoint = 'batch' | 'between-checkpoints' | 'directory-swap';

export function crashPoint(name: CrashPoint): void {
  const spec = process.env.LESION_LAB_TEST_SIGKILL_AT;
  if (!spec) return;
  const n = (passed.get(name) ?? 0) + 1;
  passed.set(name, n);
  if (spec.split(',').some((item) => item.trim() === `${name}@${n}`)) process.kill(process.pid, 'SIGKILL');
}
