#!/usr/bin/env python3
"""Optional, needs internet beyond PyPI: torchvision's ImageNet VGG19 (the network of Gatys
et al.) as features-only safetensors for the engine. Needs full torch (run it with
.venv-bench/bin/python, which scripts/bench.sh creates). Usage: fetch_vgg19_torchvision.py OUT
"""
import hashlib
import os
import sys
import tempfile
import urllib.request

URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
SHA256_PREFIX = "dcbb9e9d"  # torchvision names its files by the first hex digits of the sha256


def main(out: str) -> None:
    import torch
    from safetensors.torch import save_file

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "vgg19.pth")
        urllib.request.urlretrieve(URL, path)
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        if not digest.startswith(SHA256_PREFIX):
            sys.exit(f"error: {URL} has sha256 {digest}, expected {SHA256_PREFIX}...")
        state = torch.load(path, map_location="cpu", weights_only=True)
    features = {k: v.float().contiguous() for k, v in state.items() if k.startswith("features.")}
    if len(features) != 32:
        sys.exit(f"error: expected 16 conv layers (32 tensors), found {len(features)}")
    metadata = {
        "arch": "vgg19",
        "convention": "torchvision",
        "input": "RGB in 0..1, mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]",
        "source": URL,
        "credit": "Very Deep Convolutional Networks for Large-Scale Image Recognition, K. Simonyan and A. Zisserman (CC BY 4.0)",
    }
    tmp_out = out + ".tmp"
    save_file(features, tmp_out, metadata=metadata)
    os.replace(tmp_out, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
