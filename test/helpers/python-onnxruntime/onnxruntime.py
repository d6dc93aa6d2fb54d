# A stand-in for Python's onnxruntime, used only to run the README's Python example here: Debian 12 has
# no onnxruntime package and PyPI cannot be reached from these machines. InferenceSession.run hands the
# feeds to onnxruntime-node (the same C++ runtime, Node binding) in a child process and returns its
# outputs as numpy arrays; everything else in the example (PIL, numpy, the preprocessing) is real.
import json, os, subprocess, tempfile
import numpy as np

_RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.mjs")


class InferenceSession:
    def __init__(self, path, *args, **kwargs):
        self._path = path

    def run(self, output_names, feeds):
        with tempfile.TemporaryDirectory() as tmp:
            spec = {}
            for name, array in feeds.items():
                array = np.ascontiguousarray(array, dtype=np.float32)
                array.tofile(os.path.join(tmp, name + ".f32"))
                spec[name] = list(array.shape)
            out = subprocess.run([os.environ.get("LESION_LAB_NODE", "node"), _RUNNER, self._path, tmp, json.dumps(spec)],
                                 check=True, capture_output=True, text=True).stdout
        outputs = json.loads(out)
        names = output_names or list(outputs)
        return [np.array(outputs[n]["data"], np.float32).reshape(outputs[n]["dims"]) for n in names]
