from interplay.experiments.grokking import SERIES, change_steps


def _row(step, train_accuracy, test_accuracy, mir):
    return {"model": "mlp", "seed": 0, "step": step, "train_accuracy": train_accuracy, "test_accuracy": test_accuracy} | {
        s: mir for s in SERIES if s != "test_accuracy"
    }


def test_change_steps_start_where_the_training_pairs_are_fitted():
    # MIR jumps while memorising (steps 0-20), then drifts; test accuracy jumps at step 50.
    rows = [
        _row(0, 0.01, 0.01, 0.1),
        _row(10, 0.5, 0.01, 0.5),
        _row(20, 1.0, 0.02, 0.6),
        _row(30, 1.0, 0.02, 0.62),
        _row(40, 1.0, 0.10, 0.64),
        _row(50, 1.0, 0.90, 0.66),
        _row(60, 1.0, 1.00, 0.70),
    ]
    [entry] = change_steps(rows)
    assert entry["memorised_step"] == 20 and entry["final_test_accuracy"] == 1.0
    assert entry["step_test_accuracy"] == 50
    # From step 0, MIR would have "moved" at step 10, long before the jump; after memorisation it
    # covers half of 0.6 -> 0.7 at step 50.
    assert entry["step_train_mir"] == 50


def test_change_steps_use_the_whole_run_when_training_never_fits():
    rows = [_row(0, 0.1, 0.0, 0.0), _row(10, 0.2, 0.4, 1.0), _row(20, 0.3, 1.0, 1.0)]
    [entry] = change_steps(rows)
    assert entry["memorised_step"] == 0 and entry["step_test_accuracy"] == 20 and entry["step_test_mir"] == 10
