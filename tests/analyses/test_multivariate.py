"""PCA monitoring of lots with Hotelling T^2 and SPE limits."""

import json

import numpy as np
import polars as pl

from analyses.multivariate import monitor_lots


def _lots(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 2))
    x = latent @ rng.normal(size=(2, 6)) + 0.3 * rng.normal(size=(n, 6))
    return pl.DataFrame(
        {"lot_id": [f"L{i}" for i in range(n)], **{f"cqa{j}": x[:, j] for j in range(6)}}
    )


def test_in_control_lots_are_flagged_at_about_the_nominal_rate() -> None:
    out = monitor_lots(
        _lots(3000, 1), [f"cqa{j}" for j in range(6)], variance=0.8, alpha=0.01, run_id="t"
    )
    assert out["is_t2_outlier"].mean() < 0.02  # type: ignore[operator]
    assert out["is_spe_outlier"].mean() < 0.03  # type: ignore[operator]


def test_a_lot_breaking_the_correlation_structure_is_flagged_by_spe_with_its_variable() -> None:
    lots = _lots(300, 2)
    broken = lots.with_columns(
        pl.when(pl.col("lot_id") == "L7")
        .then(pl.col("cqa3") + 4 * pl.col("cqa3").std())
        .otherwise(pl.col("cqa3"))
        .alias("cqa3")
    )
    out = monitor_lots(broken, [f"cqa{j}" for j in range(6)], variance=0.8, alpha=0.01, run_id="t")
    row = out.filter(pl.col("lot_id") == "L7")
    assert row["is_spe_outlier"][0] or row["is_t2_outlier"][0]
    assert row["top_contributor"][0] == "cqa3"
    assert set(json.loads(row["contributions"][0])) == {f"cqa{j}" for j in range(6)}
    assert (
        out.filter(pl.col("lot_id") == "L8")["contributions"][0] is None
        or out.filter(pl.col("lot_id") == "L8")["is_spe_outlier"][0]
    )
