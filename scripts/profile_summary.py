#!/usr/bin/env python3
"""Kernel time against idle time in Chrome traces from `bench --profile DIR` (the engine's
Kineto trace through the CUDA shim, and torch.profiler's for the reference; both cover 10
steady steps). Standard library only.

For each trace: the wall span of the GPU work (first kernel start to last kernel end), the
time at least one kernel was running (union of kernel intervals), the gaps (span - busy:
launch overhead, host syncs, Python), kernels per step, and the top kernels by total time.
Usage: scripts/profile_summary.py TRACE.json [TRACE.json ...]   (or a directory)
"""
import json
import os
import sys
from collections import defaultdict

STEPS = 10


def kernels(path):
    with open(path) as f:
        trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    return [e for e in events if e.get("ph") == "X" and e.get("cat") in ("kernel", "Kernel")]


def summarise(path):
    ks = kernels(path)
    if not ks:
        print(f"{os.path.basename(path)}: no CUDA kernels in the trace")
        return
    spans = sorted((float(k["ts"]), float(k["ts"]) + float(k["dur"])) for k in ks)
    start, end = spans[0][0], max(e for _, e in spans)
    busy, cur_s, cur_e = 0.0, spans[0][0], spans[0][1]
    for s, e in spans[1:]:
        if s > cur_e:
            busy += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    busy += cur_e - cur_s
    wall = end - start
    by_name = defaultdict(lambda: [0, 0.0])
    for k in ks:
        by_name[k["name"]][0] += 1
        by_name[k["name"]][1] += float(k["dur"])
    total = sum(v[1] for v in by_name.values())
    print(f"{os.path.basename(path)}")
    print(f"  per step: wall {wall / STEPS / 1000:.3f} ms, kernels busy {busy / STEPS / 1000:.3f} ms "
          f"({busy / wall * 100:.0f} %), gaps {(wall - busy) / STEPS / 1000:.3f} ms, "
          f"{len(ks) / STEPS:.0f} kernels")
    for name, (count, dur) in sorted(by_name.items(), key=lambda kv: -kv[1][1])[:8]:
        short = name if len(name) <= 70 else name[:67] + "..."
        print(f"    {dur / total * 100:5.1f} %  {dur / STEPS / 1000:7.3f} ms/step  x{count / STEPS:<6.1f} {short}")


def main():
    paths = []
    for arg in sys.argv[1:]:
        if not os.path.exists(arg):
            print(f"{arg}: no such trace or folder (traces are written on CUDA only)")
        elif os.path.isdir(arg):
            paths += sorted(os.path.join(arg, f) for f in os.listdir(arg) if f.endswith(".json"))
        else:
            paths.append(arg)
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in paths:
        summarise(p)


if __name__ == "__main__":
    main()
