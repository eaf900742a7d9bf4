#!/usr/bin/env bash
# The GPU run (issue 33), in one go on a lent GPU machine (torch 2.11.0 preinstalled, no
# registry, nothing built there). Stage gpu/ here first with scripts/gpu_prepare.sh, then run
# this with gpu/ carried. The whole run keeps to GPU_CHECK_BUDGET seconds: every section gets
# its own limit, cut to what is left, and the sections run in order of importance, so a slow
# part cannot take the others' results with it. Results: $OUT/*.txt (at most 8 files).
#
# The levers: section 2 times each alone at 512 px; the fastest variant whose loss stays
# within 1 % of base ("best") then runs the later sections beside base. Order: smoke, levers,
# gallery resolution, L-BFGS and 256 px, the farm (Paint, Live), the profile, the mirror.
#
# Dry run on a CPU (checks the script and every command line, not the numbers):
#   GPU_CHECK_DEVICE=cpu GPU_CHECK_SIZE=64 GPU_CHECK_SMALL=48 GPU_CHECK_ITERS=3 \
#   GPU_CHECK_GALLERY=96,128 GPU_CHECK_SCHEDULES="2x3" GPU_CHECK_LIVE=64 GPU_CHECK_FARM_SIZE=64 \
#   TORCH_PY=.venv-bench/bin/python B=gpu/gallery-painter bash scripts/gpu_check.sh
set -uo pipefail
export PYTHONUNBUFFERED=1
TORCH_PY=${TORCH_PY:-/opt/torch/.venv/bin/python}
TORCH_LIB=$($TORCH_PY -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH="$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GALLERY_ROOT="$PWD"
export RUST_LOG=${RUST_LOG:-warn}
# Debian's nats-server, carried in gpu/bin (the machine has none).
[ -x gpu/bin/nats-server ] && export PATH="$PWD/gpu/bin:$PATH"
B=${B:-gpu/gallery-painter}
# The benchmarks, in their own binary beside the product (it starts "$B" painter processes).
BENCH=${BENCH:-gpu/gallery-bench}
DEVICE=${GPU_CHECK_DEVICE:-cuda}
SIZE=${GPU_CHECK_SIZE:-512}
SMALL=${GPU_CHECK_SMALL:-256}
ITERS=${GPU_CHECK_ITERS:-100}
GALLERY=${GPU_CHECK_GALLERY:-1024,1536,2048}
SCHEDULES=${GPU_CHECK_SCHEDULES:-3x40 3x100}
LIVE=${GPU_CHECK_LIVE:-512}
LEVERS=${GPU_CHECK_VARIANTS:-base,no-benchmark,tf32,nhwc,bf16,nhwc+bf16}
GRAPHED=${GPU_CHECK_GRAPHED:-graphs,graphs+nhwc,graphs+no-benchmark,graphs+nhwc+no-benchmark,graphs+tf32,graphs+nhwc+tf32,graphs+nhwc+bf16}
JOURNEY_BASE=${GPU_CHECK_JOURNEY_BASE:-1}
FARM=${GPU_CHECK_FARM:-4x3}
FARM_SIZE=${GPU_CHECK_FARM_SIZE:-1024}
BUDGET=${GPU_CHECK_BUDGET:-500}
# Sections to run (a rerun takes only what the first run missed); BEST skips section 2's choice.
SECTIONS=${GPU_CHECK_SECTIONS:-1 2 3 4 5 6 7 8}
BEST=${GPU_CHECK_BEST:-}
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
W=.cache/bench/vgg19-random.safetensors
START=$SECONDS
LOG="$OUT/log.txt"
: >"$LOG"
want() { [[ " $SECTIONS " == *" $1 "* ]]; }
say() { echo "$*" | tee -a "$LOG"; }
section() { say ""; say "== $* ($(date +%T), $((SECONDS - START)) s in)"; }
# limit N: N seconds, or what is left of the budget (minus 5 s to write up), whichever is less.
limit() {
  local left=$((BUDGET - (SECONDS - START) - 5))
  [ "$left" -lt "$1" ] && echo "$left" || echo "$1"
}
# run LIMIT FILE CMD...: runs with a time limit, appends its output to FILE and the log.
run() {
  local n; n=$(limit "$1"); shift
  local file=$1; shift
  if [ "$n" -lt 10 ]; then say "  skipped: the budget is spent"; return 1; fi
  timeout "$n" "$@" 2>&1 | tee -a "$file" "$LOG"
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 124 ] && say "  (stopped at its limit of $n s)"
  return "$rc"
}
# The command-line flags of a bench variant (base, or +-joined levers), every lever spelt
# out: base is PyTorch eager with cuDNN benchmark, whatever the installation's defaults are.
flags() {
  local bench=true tf32=false nhwc=false precision=fp32 graphs=false
  for lever in ${1//+/ }; do
    case $lever in
      no-benchmark) bench=false ;;
      tf32) tf32=true ;;
      nhwc) nhwc=true ;;
      bf16) precision=mixed ;;
      graphs) graphs=true ;;
    esac
  done
  echo "--cudnn-benchmark $bench --tf32-matmul $tf32 --tf32-conv true --channels-last $nhwc --precision $precision --cuda-graphs $graphs"
}

section "card"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader 2>&1 | tee -a "$LOG"
ldd "$B" | grep -E "torch_cuda|not found" | tee -a "$LOG"
$TORCH_PY -c 'import torch; print("torch", torch.__version__, "cuDNN", torch.backends.cudnn.version())' 2>&1 | tee -a "$LOG"

# Graphed variants join the lever table only once one CUDA graph has run (section 1): a
# capture that takes the process down would otherwise take the whole table with it.
GRAPHS=${GPU_CHECK_GRAPHS:-1}
if want 1; then
section "1. the --features cuda build: GPU, shim and one CUDA graph (also makes the VGG19 weights)"
run 90 "$OUT/smoke.txt" "$BENCH" engine --device "$DEVICE" --python "$TORCH_PY" --archs vgg19 --sizes 64 --iters 3 \
  --repeats 1 --optimizers adam --variants base,graphs || GRAPHS=0
grep -q "^vgg19 .* graphs " "$OUT/smoke.txt" || GRAPHS=0
[ "$GRAPHS" = 1 ] || say "  graphed variants left out of the lever table"
fi
with_graphs() { [ "$GRAPHS" = 1 ] && echo "$1,$2" || echo "$1"; }
# A comma list with repeats left out (BEST may already be in it).
uniq_list() { echo "$1" | tr , '\n' | awk 'NF && !seen[$0]++' | paste -sd, -; }

if want 2; then
section "2. fair benchmark at $SIZE px: engine vs PyTorch eager, same settings per variant, VGG19, Adam, each lever alone"
run 180 "$OUT/bench.txt" "$BENCH" engine --device "$DEVICE" --python "$TORCH_PY" --archs vgg19 --sizes "$SIZE" \
  --iters "$ITERS" --repeats 1 --optimizers adam \
  --variants "$(with_graphs "$LEVERS" "$GRAPHED")"

fi

# The fastest variant at SIZE whose final loss is within 1 % of base (engine side).
[ -n "$BEST" ] || BEST=$(python3 - "$OUT/bench.txt" "$SIZE" <<'EOF'
import re, sys
best, rate = "base", 0.0
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 13 or f[0] != "vgg19" or f[1] != sys.argv[2] or f[2] != "adam":
        continue
    m = re.search(r"([+-]?[\d.]+)%/", line)
    if not m or abs(float(m.group(1))) > 1.0:
        continue
    if float(f[5]) > rate:
        best, rate = f[3], float(f[5])
print(best)
EOF
)
# A rerun without sections 1 and 2 still needs the benchmark's VGG19 weights (made by bench).
[ -f "$W" ] || run 60 /dev/null "$BENCH" engine --device "$DEVICE" --python "$TORCH_PY" --archs vgg19 --sizes 32 --iters 1 \
  --repeats 1 --optimizers adam --variants base >/dev/null
say "best variant at $SIZE px: $BEST (flags:$(flags "$BEST"))"
BEST_FLAGS=$(flags "$BEST")

if want 3; then
section "3. gallery resolution: frozen frame -> first painting -> finished, journey worker, $BEST"
for schedule in $SCHEDULES; do
  run 120 "$OUT/journey.txt" "$BENCH" live --journey-only --device "$DEVICE" --weights "$W" $BEST_FLAGS \
    --sizes "$SIZE,$GALLERY" --frames 3 --levels "${schedule%x*}" --iterations "${schedule#*x}"
done
if [ "$JOURNEY_BASE" = 1 ]; then
  say "  the same with base levers (3 levels x 40):"
  run 90 "$OUT/journey.txt" "$BENCH" live --journey-only --device "$DEVICE" --weights "$W" $(flags base) \
    --sizes "$SIZE,${GALLERY%%,*}" --frames 3 --levels 3 --iterations 40
fi
fi

if want 4; then
section "4. L-BFGS against Adam at $SIZE px, and the launch-bound $SMALL px"
run 90 "$OUT/bench.txt" "$BENCH" engine --device "$DEVICE" --python "$TORCH_PY" --archs vgg19 --sizes "$SIZE" \
  --iters "$ITERS" --repeats 1 --optimizers lbfgs --variants "$(uniq_list "$(with_graphs base graphs),$BEST")"
run 120 "$OUT/bench.txt" "$BENCH" engine --device "$DEVICE" --python "$TORCH_PY" --archs vgg19 --sizes "$SMALL" \
  --iters $((ITERS * 2)) --repeats 1 --optimizers adam,lbfgs --variants "$(uniq_list "$(with_graphs base graphs),bf16,nhwc+bf16,$BEST")"
fi

if want 5 || want 6; then
section "5. the farm on this GPU: one painter, ${FARM%x*} kiosks x ${FARM#*x} visitors (the config's engine.on_gpu schedule), $BEST"
if command -v nats-server >/dev/null; then
  precision=fp32
  [[ $BEST == *bf16* ]] && precision=mixed
  yes_no() { [[ $BEST == *$1* ]] && echo true || echo false; }
  cat >/tmp/gpu-farm.ron <<EOF
(
    engine: (
        weights: "$W",
        device: $DEVICE,
        precision: $precision,
        gpu: (
            cudnn_benchmark: $([[ $BEST == *no-benchmark* ]] && echo false || echo true),
            tf32_matmul: $(yes_no tf32),
            cuda_graphs: $(yes_no graphs),
            channels_last: $(yes_no nhwc),
        ),
    ),
)
EOF
  want 5 && run 150 "$OUT/farm.txt" "$BENCH" farm --config /tmp/gpu-farm.ron --kiosks "${FARM%x*}" --painters 1 \
    --visitors "${FARM#*x}" --size "$FARM_SIZE" --iterations 40 --levels 3 --patience-s 60
  want 6 && section "6. the Live mirror on the farm's GPU painter against this GPU alone, $LIVE px, 20 s"
  want 6 && run 90 "$OUT/farm.txt" "$BENCH" farm --config /tmp/gpu-farm.ron --kiosks 1 --painters 1 --live 20 \
    --live-frames-per-second "${GPU_CHECK_LIVE_FPS:-4}" \
    --size "$LIVE"
else
  say "  no nats-server (gpu/bin/nats-server is staged by scripts/gpu_prepare.sh): skipped"
fi
fi

if want 7; then
section "7. profile: kernel time vs gaps per step, base and $BEST (a second sample of both)"
# Apart from the table: a profiler that fails must not take the lever table with it.
run 90 "$OUT/profile.txt" "$BENCH" engine --device "$DEVICE" --python "$TORCH_PY" --archs vgg19 --sizes "$SIZE" \
  --iters "$ITERS" --repeats 1 --optimizers adam --variants "$(uniq_list "base,$BEST")" --profile /tmp/gpu-profiles
run 30 "$OUT/profile.txt" $TORCH_PY scripts/profile_summary.py /tmp/gpu-profiles
fi

if want 8; then
section "8. the Live mirror on this GPU (flicker, follow lag), $LIVE px, $BEST"
run 90 "$OUT/live.txt" "$BENCH" live --device "$DEVICE" --weights "$W" $BEST_FLAGS --mirror-only --mirror-size "$LIVE"
fi

section "done in $((SECONDS - START)) s"
