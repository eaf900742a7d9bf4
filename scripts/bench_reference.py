#!/usr/bin/env python3
"""PyTorch reference for the benchmark: the same Gatys step as the Rust engine, eager.

Same weights file (safetensors, torchvision `features.{i}` names), same input convention,
same layers (content relu4_2; style relu1_1..relu5_1 at 1/5), the same loss formulas, the
same thread count, and per variant the same settings as the engine (cuDNN benchmark, TF32,
channels_last, bf16 convolutions with fp32 image and losses). `graphs` is an engine lever:
here that variant runs eagerly with its other settings.

Adam: torch.optim.Adam(lr=4). L-BFGS: torch.optim.LBFGS(history 20, strong Wolfe line
search), the usual PyTorch Gatys setup; its steps and closure evaluations are both counted.

Prints one JSON line per variant (the fields of RunResult in src/bin/gallery-bench/engine.rs).
Usage: bench_reference.py WEIGHTS ARCH SIZE ITERS THREADS DEVICE [--optimizer adam|lbfgs]
       [--variants base,nhwc,...] [--profile DIR]
"""
import argparse
import json
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


def vgg(x, sd, names, taps):
    """The VGG `features` layers up to the deepest tap; returns {index: activation}."""
    out = {}
    for i in range(max(taps) + 1):
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


def proc_status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024.0
    return 0.0


def parse_variant(name):
    v = {"name": name, "benchmark": True, "tf32": False, "nhwc": False, "bf16": False}
    for lever in name.split("+"):
        if lever == "no-benchmark":
            v["benchmark"] = False
        elif lever == "tf32":
            v["tf32"] = True
        elif lever == "nhwc":
            v["nhwc"] = True
        elif lever == "bf16":
            v["bf16"] = True
        elif lever not in ("base", "graphs"):
            raise SystemExit(f"unknown lever {lever!r} in variant {name!r}")
    return v


def main():
    ap = argparse.ArgumentParser()
    for a in ("weights", "arch", "size", "iters", "threads", "device"):
        ap.add_argument(a)
    ap.add_argument("--optimizer", default="adam", choices=["adam", "lbfgs"])
    ap.add_argument("--variants", default="base")
    ap.add_argument("--profile")
    args = ap.parse_args()
    size, iters, threads, device = int(args.size), int(args.iters), int(args.threads), args.device
    torch.set_num_threads(threads)
    dev = torch.device(device)
    cuda = device == "cuda"
    sd32 = load_file(args.weights, device=device)
    if cuda:
        torch.zeros(1, device=dev).sum().item()  # CUDA context up before the baseline
    rss_baseline = proc_status_mb("VmRSS:")
    names = layer_names(args.arch)
    content_l = [names.index("relu4_2")]
    style_l = [names.index(n) for n in ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]]
    taps = sorted(set(content_l + style_l))
    deepest = max(taps)
    mean = torch.tensor([103.939, 116.779, 123.68], device=dev).view(1, 3, 1, 1)
    h, w = size * 3 // 4, size
    g = torch.Generator(device="cpu").manual_seed(0)
    content_img = (torch.rand(1, 3, h, w, generator=g) * 255).to(dev)
    style_img = (torch.rand(1, 3, h, w, generator=g) * 255).to(dev)

    # One step at another size first (as the engine does): the first variant's first step
    # then shows per-shape work, not the process's one-time start-up.
    warm = torch.rand(1, 3, 24, 32, device=dev, requires_grad=True)
    vgg(warm.flip(1) - mean, sd32, names, [deepest])[deepest].square().sum().backward()
    if cuda:
        torch.cuda.synchronize()

    for vname in args.variants.split(","):
        v = parse_variant(vname)
        torch.backends.cudnn.benchmark = v["benchmark"]
        torch.backends.cuda.matmul.allow_tf32 = v["tf32"]
        torch.backends.cudnn.allow_tf32 = True
        bf16 = v["bf16"] and cuda
        fmt = torch.channels_last if v["nhwc"] else torch.contiguous_format
        # Weights cast and laid out once, as the engine does.
        sd = {k: (t.to(torch.bfloat16) if bf16 else t).contiguous(memory_format=fmt) if t.dim() == 4
              else (t.to(torch.bfloat16) if bf16 else t) for k, t in sd32.items()}
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()

        def features(x):
            x = x.flip(1) - mean  # RGB 0..255 -> Caffe BGR, mean-subtracted
            if bf16:
                x = x.to(torch.bfloat16)
            return {i: f.float() for i, f in vgg(x.contiguous(memory_format=fmt), sd, names, taps).items()}

        def gram(f):
            n = f.shape[1]
            if f.is_contiguous():
                f = f.reshape(n, -1)
                return f @ f.t()
            ft = f.permute(0, 2, 3, 1).reshape(-1, n)  # NHWC: F^T without a copy
            return ft.t() @ ft

        t0 = time.perf_counter()
        with torch.no_grad():
            p = {i: f for i, f in features(content_img).items() if i in content_l}
            a = {i: gram(f) for i, f in features(style_img).items() if i in style_l}
        x = content_img.clone().requires_grad_(True)
        beta = 1e3 * (h * w) / (256 * 256)
        evals = [0]

        def closure():
            opt.zero_grad(set_to_none=True)
            f = features(x)
            lc = sum(0.5 * (f[i] - p[i]).pow(2).sum() for i in content_l)
            ls = 0
            for i in style_l:
                fi = f[i]
                n, m = fi.shape[1], fi.shape[2] * fi.shape[3]
                ls = ls + 0.2 * (gram(fi) - a[i]).pow(2).sum() / (4.0 * n * n * m * m)
            dh = x[:, :, 1:, :-1] - x[:, :, :-1, :-1]
            dw = x[:, :, :-1, 1:] - x[:, :, :-1, :-1]
            tv = (dh.pow(2) + dw.pow(2) + 1e-8).sqrt().sum()
            loss = lc + beta * ls + 1e-3 * tv
            loss.backward()
            evals[0] += 1
            last[0] = loss.detach()
            return loss

        last = [None]
        if args.optimizer == "adam":
            opt = torch.optim.Adam([x], lr=4.0)
            count = [0]

            def run(steps):
                for _ in range(steps):
                    opt.step(closure)
                    count[0] += 1
                    # Like the engine: read the loss back every 10 steps (each read waits).
                    if count[0] % 10 == 0:
                        last[0].item()
                return steps
        else:
            opt = torch.optim.LBFGS([x], lr=1, max_iter=1, history_size=20, line_search_fn="strong_wolfe",
                                    tolerance_grad=0.0, tolerance_change=0.0)

            def run(steps):
                # One call for all steps (a call re-evaluates its starting point).
                opt.param_groups[0]["max_iter"] = steps
                opt.param_groups[0]["max_eval"] = steps * 25
                before = opt.state[x].get("n_iter", 0) if x in opt.state else 0
                opt.step(closure)
                return opt.state[x]["n_iter"] - before

        def sync():
            if cuda:
                torch.cuda.synchronize()

        run(1)
        sync()
        first = time.perf_counter() - t0
        run(2)
        sync()
        e0 = evals[0]
        t = time.perf_counter()
        steps = run(iters)
        sync()
        dt = time.perf_counter() - t
        evaluations = evals[0] - e0
        final_loss = last[0].item()
        gpu_peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else 0.0
        if args.profile and cuda and vname == args.variants.split(",")[0]:
            import os
            os.makedirs(args.profile, exist_ok=True)
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU,
                                                    torch.profiler.ProfilerActivity.CUDA]) as prof:
                run(10)
                sync()
            prof.export_chrome_trace(os.path.join(args.profile, f"pytorch-{size}-{args.optimizer}-{vname}.json"))
        print(json.dumps({
            "impl": "pytorch", "variant": vname, "steps_per_s": steps / dt, "evals_per_s": evaluations / dt,
            "steps": steps, "evaluations": evaluations, "first_step_s": first, "final_loss": final_loss,
            "rss_baseline_mb": rss_baseline, "peak_rss_mb": proc_status_mb("VmHWM:"), "gpu_peak_mb": gpu_peak,
            "note": f"torch {torch.__version__}",
        }), flush=True)


if __name__ == "__main__":
    main()
