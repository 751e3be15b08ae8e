"""Cost of recording the metrics during training, against training alone, in one run.

Trains for a few epochs recording after every epoch, then reads from ``metrics.csv`` the
training time per epoch (the baseline: training without recording) and the time of each record
(both splits), and prints the overhead at several cadences. Run::

    INTERPLAY_DATA_DIR=/path/to/data python benchmarks/bench_training.py
    python benchmarks/bench_training.py --dataset digits --model mlp   # no files needed
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

import torch

from interplay.config import TrainConfig
from interplay.training.loop import train
from interplay.runs import read_rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--epochs", type=int, default=3, help="epochs timed")
    parser.add_argument("--run-epochs", type=int, default=30, help="length of the run whose default cadence is reported")
    args = parser.parse_args(argv)
    config = TrainConfig(dataset=args.dataset, model=args.model, epochs=args.epochs, record_every=1, device="cpu",
                         data_dir=os.environ.get("INTERPLAY_DATA_DIR"))
    with tempfile.TemporaryDirectory() as out:
        rows = read_rows(train(config, run_dir=out) / "metrics.csv")
    train_times = sorted({r["epoch"]: r["train_time"] for r in rows}.items())
    epoch_time = statistics.mean(b[1] - a[1] for a, b in zip(train_times, train_times[1:]))
    record_time = statistics.mean(
        sum(r["eval_time"] for r in rows if r["epoch"] == e) for e in {r["epoch"] for r in rows}
    )
    samples = {r["split"]: r["n"] for r in rows}
    default = TrainConfig(epochs=args.run_epochs).record_every
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, cpu; {args.dataset} {args.model}; "
          f"a record evaluates {samples['train']} training and {samples['test']} test samples")
    print(f"one record (both splits): {record_time:.2f} s")
    print(f"| cadence over a {args.run_epochs}-epoch run | records | training s (baseline) | recording s | overhead |")
    print("|---|---:|---:|---:|---:|")
    for every in sorted({1, default}):
        # Records at epoch 0, every `every` epochs, and at the last epoch.
        records = len({0, args.run_epochs} | set(range(every, args.run_epochs + 1, every)))
        total_train, total_record = args.run_epochs * epoch_time, records * record_time
        label = f"every {every} epoch(s)" + (" (default)" if every == default else "")
        print(f"| {label} | {records} | {total_train:.1f} | {total_record:.1f} | {100 * total_record / total_train:.1f} % |")


if __name__ == "__main__":
    main()
