"""The `rtr` command line: ingest, run, demo, report, ui."""

import argparse
import sys
from pathlib import Path

from rtr.config import Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        warehouse=getattr(args, "warehouse", None),
        landing=getattr(args, "landing", None),
        reports=getattr(args, "reports", None) or getattr(args, "out", None),
    )


def cmd_ingest(args: argparse.Namespace) -> int:
    from rtr.ingest.run import ingest_path
    from rtr.ingest.summary import print_file_result, print_totals

    settings = _settings(args)
    if not args.path.exists():
        print(f"rtr ingest: {args.path} does not exist", file=sys.stderr)
        return 2
    results = ingest_path(
        args.path,
        warehouse_path=settings.warehouse,
        archive_dir=settings.archive,
        profile=args.profile,
        on_file=print_file_result,
    )
    print_totals(results, settings.warehouse)
    if args.strict and any(r.outcome in ("refused", "partially_accepted") for r in results):
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rtr", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="load deliveries under PATH into the warehouse")
    ingest.add_argument("path", type=Path)
    ingest.add_argument("--warehouse", type=Path)
    ingest.add_argument("--profile", help="source profile to read the delivery with")
    ingest.add_argument(
        "--strict", action="store_true", help="exit 1 if any row was quarantined or file refused"
    )
    ingest.set_defaults(func=cmd_ingest)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
