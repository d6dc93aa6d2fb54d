/**
 * Debian's Python with python3-onnx and python3-h5py (installed by test/e2e/setup.sh), for checks
 * made with the official tools. /usr/bin/python3 is preferred over whatever `python3` is first on
 * PATH (a pyenv shim, say), because that is where Debian's packages are importable.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = process.env.LESION_LAB_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

/** Runs a Python script; rejects with its stderr when it fails (a missing module included: no silent skips). */
export function runPython(script: string, args: readonly string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', script, ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const hint = /No module named '(onnx|h5py)'/.test(stderr) ? ` — install Debian's python3-onnx and python3-h5py (test/e2e/setup.sh does)` : '';
        reject(new Error(`${PYTHON} failed${hint}:\n${stderr || err.message}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

/** onnx.checker.check_model with full shape inference; resolves to the opset and IR version it read. */
export async function onnxCheck(file: string): Promise<{ opset: number; irVersion: number }> {
  const out = await runPython(
    'import json, sys, onnx\nm = onnx.load(sys.argv[1])\nonnx.checker.check_model(m, full_check=True)\nprint(json.dumps({"opset": [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0], "irVersion": m.ir_version}))',
    [file],
  );
  return JSON.parse(out) as { opset: number; irVersion: number };
}
