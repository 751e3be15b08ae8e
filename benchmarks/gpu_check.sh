#!/usr/bin/env bash
# The CUDA checks in one go: the device tests, short training runs, the benchmarks on the GPU and
# the fast test suite with CUDA present. Everything goes to one log, step by step, so a run cut
# short keeps what it finished; a step that fails or runs past its limit is reported and the next
# one still runs. Run from the repository root:
#
#     bash benchmarks/gpu_check.sh [LOG_FILE]     # default: gpu-check.log
set -u
log=${1:-gpu-check.log}
runs=$(mktemp -d)
export PYTHONUNBUFFERED=1
step() {  # step NAME SECONDS COMMAND...
    local name=$1 limit=$2
    shift 2
    local began=$SECONDS
    echo "=== $name" >>"$log"
    timeout "$limit" "$@" >>"$log" 2>&1
    echo "=== $name: exit $? in $((SECONDS - began)) s" | tee -a "$log"
}
step environment 60 bash -c 'nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; python3 -c "import torch; print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name())"; python3 -m pip install --no-deps --no-build-isolation --no-index -q -e .'
step device-tests 150 python3 -m pytest -q -p no:cacheprovider tests/test_devices.py -k cuda
step train 90 python3 -m interplay train --device cuda --epochs 2 --out "$runs/plain"
step train-loss-terms 90 python3 -m interplay train --device cuda --epochs 2 --mir-weight 0.1 --hdr-weight 0.1 --method stochastic --out "$runs/terms"
step train-records 10 bash -c "cut -d, -f1-12 $runs/plain/metrics.csv; cut -d, -f1-12 $runs/terms/metrics.csv"
step bench-metrics 150 python3 benchmarks/bench_metrics.py --device cuda
step bench-pairing 60 python3 benchmarks/bench_stochastic.py pairing --device cuda
step bench-cifar100 90 python3 benchmarks/bench_stochastic.py cifar100 --device cuda
step bench-imagenet 150 python3 benchmarks/bench_stochastic.py imagenet --device cuda
step bench-grid 120 python3 benchmarks/bench_stochastic.py grid --device cuda
step suite 300 python3 -m pytest -q -x -p no:cacheprovider -m "not slow" -n 12 tests
