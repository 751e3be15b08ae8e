"""Running ``interplay`` in-process as a user types it, for the tests of its error paths."""

from __future__ import annotations

from interplay.cli import main


def one_line_error(argv, capsys) -> str:
    """Run ``interplay ARGV`` and return its error: exit 2, one line on stderr, no traceback."""
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("interplay: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()
