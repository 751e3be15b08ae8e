"""Dense symmetric eigenvalue solvers on the exact sample-pairing path's one large solve.

The exact sample-pairing joint entropy at n = 4,096, d = 128, C = 10 diagonalises one
1,280×1,280 float64 matrix (side r·s); that solve bounds the path's speed. This times the
eigenvalue-only solvers within reach of the project's dependencies on such a matrix, against
``torch.linalg.eigvalsh`` in the same run, and checks each against it. Run::

    python benchmarks/bench_eigensolvers.py            # side 1,280
    python benchmarks/bench_eigensolvers.py --size 640
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import os
import timeit

import numpy as np
import scipy
import scipy.linalg
import torch


def two_stage_solver():
    """LAPACK's two-stage ``dsyevd_2stage`` (band reduction, then bulge chasing) from scipy's OpenBLAS, if present."""
    libraries = glob.glob(os.path.join(os.path.dirname(os.path.dirname(scipy.__file__)), "scipy.libs", "libscipy_openblas*.so"))
    for path in libraries:
        library = ctypes.CDLL(path)
        solve = getattr(library, "scipy_LAPACKE_dsyevd_2stage", None)
        if solve is None:
            continue
        solve.restype = ctypes.c_int
        solve.argtypes = [ctypes.c_int, ctypes.c_char, ctypes.c_char, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]

        def eigenvalues(matrix: np.ndarray) -> np.ndarray:
            a = np.array(matrix, dtype=np.float64, order="C")  # overwritten by LAPACK
            w = np.empty(a.shape[0])
            info = solve(101, b"N", b"L", a.shape[0], a.ctypes.data, a.shape[0], w.ctypes.data)  # 101: row-major
            if info != 0:
                raise RuntimeError(f"dsyevd_2stage returned info={info}")
            return w

        return eigenvalues
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1280, help="side of the random PSD matrix (default: 1280)")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per solver; the median is shown")
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    a = torch.randn(args.size, args.size, generator=g, dtype=torch.float64)
    matrix = a @ a.T / args.size
    array = matrix.numpy()
    solvers = {
        "torch.linalg.eigvalsh (float64)": lambda: torch.linalg.eigvalsh(matrix).numpy(),
        "numpy.linalg.eigvalsh": lambda: np.linalg.eigvalsh(array),
        **{f"scipy.linalg.eigvalsh driver={d}": (lambda d=d: scipy.linalg.eigvalsh(array, driver=d)) for d in ("ev", "evd", "evr")},
    }
    two_stage = two_stage_solver()
    if two_stage is not None:
        solvers["LAPACK dsyevd_2stage (scipy's OpenBLAS)"] = lambda: two_stage(array)
    solvers["torch.linalg.eigvalsh (float32, not exact)"] = lambda: torch.linalg.eigvalsh(matrix.float()).double().numpy()
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}, scipy {scipy.__version__}; "
          f"random PSD matrix of side {args.size}")
    reference = np.sort(solvers["torch.linalg.eigvalsh (float64)"]())
    baseline = None
    print("solver | median ms | against torch float64 | max |Δλ| / λ_max")
    for name, solve in solvers.items():
        values = np.sort(solve())  # warm-up, and the accuracy check
        seconds = sorted(timeit.repeat(solve, number=1, repeat=args.repeat))[args.repeat // 2]
        baseline = baseline or seconds
        error = np.abs(values - reference).max() / reference.max()
        print(f"{name} | {1e3 * seconds:.1f} | {baseline / seconds:.2f}× | {error:.1e}", flush=True)


if __name__ == "__main__":
    main()
