"""Every failure is a sentence: the exit code and one-line message, saying what to do, for an error.

Exit codes (documented in README's command table): 0 done; 1 data problems; 2 usage or
environment; 3 a lock wait ran out; 128 + N stopped by signal N (130 Ctrl-C, 143 SIGTERM).
"""

from rtr.locks import LockTimeout, printable
from rtr.stopping import Stopped

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_LOCK = 0, 1, 2, 3


def explain(exc: BaseException) -> tuple[int, str]:
    """The exit code and one-line message for a failure, saying what to do."""
    # A note says where it happened ("while loading clinical/d1/ae.xpt").
    text = printable(" ".join(" ".join([str(exc), *getattr(exc, "__notes__", [])]).split()))
    if isinstance(exc, Stopped):
        return exc.exit_code, (
            f"stopped by {exc}; what was committed stays (each file and each step is one "
            "transaction): run the command again to finish"
        )
    if isinstance(exc, KeyboardInterrupt):
        return 130, "stopped by Ctrl-C; run the command again to finish"
    if isinstance(exc, LockTimeout):
        return EXIT_LOCK, text
    if isinstance(exc, FileNotFoundError | FileExistsError | NotADirectoryError | ValueError):
        return EXIT_USAGE, text
    if isinstance(exc, OSError):
        where = f" ({printable(str(exc.filename))})" if exc.filename else ""
        return EXIT_USAGE, (
            f"{exc.strerror or text}{where}: check that the path exists, that you may write it "
            "and that the disk has room"
        )
    if type(exc).__module__.startswith(("duckdb", "_duckdb")):
        return EXIT_USAGE, (
            f"DuckDB could not read or write the warehouse ({text}); check the file and the disk, "
            "and run again with --debug to see where"
        )
    return EXIT_USAGE, (
        f"unexpected {type(exc).__name__}: {text}; run again with --debug for the traceback "
        "and report it with the command line"
    )
