#!/usr/bin/env python3
"""PyTorch reference for the benchmark: the same Gatys step as the Rust engine.

Same weights file (safetensors, torchvision `features.{i}` names), same input convention,
same layers (content relu4_2; style relu1_1..relu5_1 at 1/5), the same loss formulas, Adam
on the image, same thread count. Prints one JSON line: it/s and peak memory.
Usage: bench_reference.py WEIGHTS ARCH SIZE ITERS THREADS DEVICE [fp32|mixed]
"""
import json
import resource
import sys
import time

import torch
from safetensors.torch import load_file

CFG = {"vgg16": [2, 2, 3, 3, 3], "vgg19": [2, 2, 4, 4, 4]}


def layer_names(arch):
    names = []
    for b, n in enumerate(CFG[arch], 1):
        for c in range(1, n + 1):
            names += [f"conv{b}_{c}", f"relu{b}_{c}"]
        names.append(f"pool{b}")
    return names


def main():
    weights, arch, size, iters, threads, device = sys.argv[1:7]
    precision = sys.argv[7] if len(sys.argv) > 7 else "fp32"
    size, iters, threads = int(size), int(iters), int(threads)
    torch.set_num_threads(threads)
    dev = torch.device(device)
    sd = load_file(weights, device=device)
    names = layer_names(arch)
    content_l, style_l = [names.index("relu4_2")], [names.index(n) for n in ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]]
    taps = sorted(set(content_l + style_l))
    deepest = max(taps)
    mean = torch.tensor([103.939, 116.779, 123.68], device=dev).view(1, 3, 1, 1)

    def features(x):
        x = x.flip(1) - mean  # RGB 0..255 -> Caffe BGR, mean-subtracted
        out = {}
        for i in range(deepest + 1):
            n = names[i]
            if n.startswith("conv"):
                x = torch.nn.functional.conv2d(x, sd[f"features.{i}.weight"], sd[f"features.{i}.bias"], padding=1)
            elif n.startswith("relu"):
                x = torch.relu(x)
            else:
                x = torch.nn.functional.max_pool2d(x, 2, 2)
            if i in taps:
                out[i] = x
        return out

    def gram(f):
        n = f.shape[1]
        f = f.reshape(n, -1)
        return f @ f.t()

    h, w = size * 3 // 4, size
    g = torch.Generator(device="cpu").manual_seed(0)
    content = (torch.rand(1, 3, h, w, generator=g) * 255).to(dev)
    style = (torch.rand(1, 3, h, w, generator=g) * 255).to(dev)
    with torch.no_grad():
        p = {i: f.float() for i, f in features(content).items() if i in content_l}
        a = {i: gram(f.float()) for i, f in features(style).items() if i in style_l}
    x = content.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=4.0)
    beta = 1e3 * (h * w) / (256 * 256)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", enabled=(precision == "mixed" and device == "cuda")):
            f = features(x)
        lc = sum(0.5 * (f[i].float() - p[i]).pow(2).sum() for i in content_l)
        ls = 0
        for i in style_l:
            fi = f[i].float()
            n, m = fi.shape[1], fi.shape[2] * fi.shape[3]
            ls = ls + 0.2 * (gram(fi) - a[i]).pow(2).sum() / (4.0 * n * n * m * m)
        dh = x[:, :, 1:, :-1] - x[:, :, :-1, :-1]
        dw = x[:, :, :-1, 1:] - x[:, :, :-1, :-1]
        tv = (dh.pow(2) + dw.pow(2) + 1e-8).sqrt().sum()
        loss = lc + beta * ls + 1e-3 * tv
        loss.backward()
        opt.step()
        return loss

    # Like the engine: read the loss back every 10 steps (each read waits for the GPU).
    count = [0]

    def timed_step():
        loss = step()
        count[0] += 1
        if count[0] % 10 == 0:
            loss.item()

    for _ in range(3):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    for _ in range(iters):
        timed_step()
    if device == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    gpu = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else 0.0
    print(json.dumps({"impl": "pytorch", "it_s": iters / dt, "peak_rss_mb": peak, "gpu_peak_mb": gpu, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
