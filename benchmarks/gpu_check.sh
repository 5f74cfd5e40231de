#!/usr/bin/env bash
# `make gpu-check`: the GPU evidence of the speed work in one script, about 10 minutes on one H100.
#   1. bench-model on the GPU: fp32 (no TF32), TF32, bf16, channels_last; then torch.compile against the fast path;
#      then the training step at batch 16 of 256^2 with and without CUDA graphs (model.cuda_graphs), as
#      seconds and fraction of the bf16 ceiling
#   2. the loader against in-memory batches at the `gpu` profile's settings, and batches cut on the GPU
#      (data.on_device)
#   3. the `gpu` profile for SR-EDRB3 and SS (a two-variant Table 1 sweep) and its table
#   4. bf16 against fp32 training (same seed, 300 steps), and the trained SR-EDRB3 checkpoint scored in fp32
#      and in bf16 on the test split
# Everything lands in $GPU_CHECK_OUT (default ablations/results/gpu-check/). Each step has a time limit and a
# failing step is recorded in summary.md, so one broken path does not hide the others' results.
# GPU_CHECK_DRY_RUN=1 runs the same steps on the CPU at smoke size (what the tests do), without compiling.
# GPU_CHECK_STEPS="bench-graphs loader-on-device" runs only the steps named (default: all) and adds to
# summary.md instead of starting it anew, so a check can be split over calls shorter than the whole (the eval
# steps need table1 in the same call).
set -uo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
OUT=${GPU_CHECK_OUT:-ablations/results/gpu-check}
WORK=${GPU_CHECK_WORK:-logs/gpu-check}
export PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 NO_ALBUMENTATIONS_UPDATE=1

if [[ ${GPU_CHECK_DRY_RUN:-0} == 1 ]]; then
    PROFILE=smoke DEVICE=cpu COMPILE=0
    BENCH_ARGS=(--size 48 64 --batch 1 --crop 32 --repeats 1)
    LOADER_ARGS=(--profiles smoke --steps 3 --warmup 1)
    ON_DEVICE_ARGS=(--profiles smoke --steps 3 --warmup 1)
    DATA_ARGS=(data.root="$WORK/data" data.synthesize.n_train=4 data.synthesize.n_test=2 "data.synthesize.size=[64,80]")
    ACCURACY_ARGS=(--profile smoke --steps 4 --accelerator cpu)
    LIMIT_BENCH=120 LIMIT_LOADER=120 LIMIT_TABLE=300 LIMIT_EVAL=120 LIMIT_ACCURACY=200
else
    PROFILE=gpu DEVICE=cuda COMPILE=1
    BENCH_ARGS=(--repeats 5)
    LOADER_ARGS=(--profiles gpu --workers 4 8 --steps 60 --warmup 10)
    ON_DEVICE_ARGS=(--profiles gpu --steps 60 --warmup 10)
    GRAPHS_ARGS=(--batch 16 --crop 256 --repeats 10 --graphs --only fast graphs)
    DATA_ARGS=()
    ACCURACY_ARGS=(--profile mini --steps 300 --accelerator gpu)
    LIMIT_BENCH=60 LIMIT_COMPILE=90 LIMIT_GRAPHS=120 LIMIT_LOADER=45 LIMIT_TABLE=220 LIMIT_EVAL=20 LIMIT_ACCURACY=75
fi

# wanted NAME: whether GPU_CHECK_STEPS (if set) names this step
wanted() {
    [[ -z ${GPU_CHECK_STEPS:-} || " $GPU_CHECK_STEPS " == *" $1 "* ]]
}

mkdir -p "$OUT" "$WORK"
SUMMARY="$OUT/summary.md"
{
    echo "# gpu-check ($(date -u +%Y-%m-%dT%H:%MZ), profile $PROFILE, device $DEVICE)"
    echo
    if command -v nvidia-smi >/dev/null; then
        echo '```'
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
        echo '```'
    fi
    "$PY" -c "import torch, pytorch_lightning as pl; print(f'- torch {torch.__version__}, CUDA {torch.version.cuda}, Lightning {pl.__version__}')"
    [[ -n ${GPU_CHECK_STEPS:-} ]] && echo "- steps: $GPU_CHECK_STEPS"
} > "$WORK/summary-head.md"
if [[ -n ${GPU_CHECK_STEPS:-} ]]; then
    cat "$WORK/summary-head.md" >> "$SUMMARY"
else
    cp "$WORK/summary-head.md" "$SUMMARY"
fi

# step NAME LIMIT_S COMMAND...: run with a time limit, keep its log, and record how it ended (unless
# GPU_CHECK_STEPS names other steps only).
step() {
    local name=$1 limit=$2
    shift 2
    wanted "$name" || return 0
    local started=$SECONDS
    echo "== $name (limit ${limit}s)"
    timeout --signal=INT --kill-after=20 "$limit" "$@" > "$WORK/$name.log" 2>&1
    local rc=$?
    tail -n 5 "$WORK/$name.log"
    echo "- $name: exit $rc after $((SECONDS - started)) s" >> "$SUMMARY"
}

step bench-model "$LIMIT_BENCH" "$PY" benchmarks/bench_model.py --device "$DEVICE" "${BENCH_ARGS[@]}" \
    --out "$OUT/bench-model.md"
if [[ $COMPILE == 1 ]]; then
    step bench-compile "$LIMIT_COMPILE" "$PY" benchmarks/bench_model.py --device "$DEVICE" "${BENCH_ARGS[@]}" \
        --compile --only fast compiled --out "$OUT/bench-model-compile.md"
    step bench-graphs "$LIMIT_GRAPHS" "$PY" benchmarks/bench_model.py --device "$DEVICE" "${GRAPHS_ARGS[@]}" \
        --out "$OUT/bench-graphs.md"
fi

step loader "$LIMIT_LOADER" bash -c "\"$PY\" benchmarks/bench_loader.py ${LOADER_ARGS[*]} ${DATA_ARGS[*]} > \"$OUT/loader.md\""
step loader-on-device "$LIMIT_LOADER" bash -c \
    "\"$PY\" benchmarks/bench_loader.py ${ON_DEVICE_ARGS[*]} data.on_device=true ${DATA_ARGS[*]} > \"$OUT/loader-on-device.md\""

SWEEP="$WORK/runs"
step table1 "$LIMIT_TABLE" "$PY" -m srnlab.cli.train --config-name table1 \
    profile="$PROFILE" logger=csv paths.log_dir="$SWEEP" hydra.sweep.dir="$SWEEP/table1" \
    experiment=table1/sr_edrb3,table1/ss "${DATA_ARGS[@]}"
if wanted table1; then
    "$PY" -m srnlab.cli.table1 --runs "$SWEEP/table1" --out "$OUT" > "$WORK/table.log" 2>&1 \
        || echo "- table: srn-table1 failed (see $WORK/table.log)" >> "$SUMMARY"
fi

step precision-accuracy "$LIMIT_ACCURACY" "$PY" benchmarks/precision_accuracy.py "${ACCURACY_ARGS[@]}" "${DATA_ARGS[@]}"
if wanted precision-accuracy; then
    grep -E '^(\||bf16 - fp32|[a-z0-9_]+, profile)' "$WORK/precision-accuracy.log" > "$OUT/precision-accuracy.md"
fi

# the best checkpoint of the job that stands for SR-EDRB3 in the table (table1.lead_seed), whichever seed it ran
BEST=$("$PY" -c 'import sys; from pathlib import Path; from srnlab.report.sweep import Sweep
job = Sweep.read(Path(sys.argv[1])).results.get("sr_edrb3")
print(job.best_ckpt if job is not None and job.ok and job.best_ckpt else "")' "$SWEEP/table1" 2>/dev/null)
if ! wanted table1; then
    :
elif [[ -n $BEST ]]; then
    for precision in 32-true bf16-mixed; do
        step "eval-$precision" "$LIMIT_EVAL" "$PY" -m srnlab.cli.evaluate ckpt_path="$BEST" profile="$PROFILE" \
            experiment=table1/sr_edrb3 logger=none hydra.run.dir="$WORK/eval-$precision" \
            trainer.precision="$precision" "${DATA_ARGS[@]}"
        grep "mean over" "$WORK/eval-$precision.log" | sed "s/^/- $precision: /" >> "$SUMMARY"
    done
    cp "$BEST" "$WORK/sr_edrb3-best.ckpt"
else
    echo "- no SR-EDRB3 checkpoint: the precision comparison was skipped" >> "$SUMMARY"
fi
echo "== done: $OUT"
cat "$SUMMARY"
