"""Command line: write a generated landing zone (or the defect set) to a folder."""

import argparse
import sys
from pathlib import Path

from sample_data import generate_cohort, write_defective_deliveries, write_deliveries


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and write the deliveries; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m sample_data", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="landing root to write into")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--n-autologous", type=int, default=360)
    parser.add_argument("--n-allogeneic", type=int, default=80)
    parser.add_argument(
        "--defective", action="store_true", help="write the defect set (and its catalogue) instead"
    )
    args = parser.parse_args(argv)
    if args.defective:
        catalogue = write_defective_deliveries(args.out)
        catalogue.write_csv(args.out / "expected_catalogue.csv")
        print(f"wrote {catalogue.height} planted defects under {args.out}")
        return 0
    cohort = generate_cohort(
        seed=args.seed, n_autologous=args.n_autologous, n_allogeneic=args.n_allogeneic
    )
    folders = write_deliveries(cohort, args.out)
    print(
        f"wrote {len(folders)} deliveries ({cohort.truth.height} infusion events) under {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
