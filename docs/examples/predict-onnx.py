# python3 predict-onnx.py EXPORT_FOLDER IMAGE   (pip install onnxruntime pillow numpy)
import json, sys
import numpy as np, onnxruntime as ort
from PIL import Image

folder, image = sys.argv[1:3]
meta = json.load(open(f"{folder}/labels.json"))
size, p = meta["input"]["size"], meta["preprocessing"]
x = np.asarray(Image.open(image).convert("RGB").resize((size, size), Image.LANCZOS), np.float32)
x = x[..., ::-1] - np.float32(p["mean"]) if p["mode"] == "caffe" else x * p["scale"] + p["offset"]
session = ort.InferenceSession(f"{folder}/model.onnx")
(probs,) = session.run(None, {"input": x[None].astype(np.float32)})
for name, prob in zip(meta["classes"], probs[0]):
    print(name, f"{prob:.4f}")
