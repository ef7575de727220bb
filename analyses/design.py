"""Feature matrix: which features are analysed, how they are encoded and standardised."""

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import stats

from analyses.config import FEATURE_KINDS, AnalysisConfig
from analyses.guards import Skip

Array = npt.NDArray[Any]  # float data, boolean masks and integer codes alike


@dataclass(frozen=True)
class Term:
    """One encoded column: a per-SD numeric, one level of a categorical, or a boolean."""

    name: str  # "ldh_u_l" or "lymphodepletion=bendamustine"
    feature: str
    kind: str  # patient | treatment | process_parameter | cqa
    measure: str  # per_sd | level | binary
    scale: float  # the SD a per-SD effect refers to (1.0 otherwise)
    reference: str | None = None  # reference level of a categorical
    transform: str | None = None  # "log" when the per-SD effect is on the log scale
    aliases: tuple[str, ...] = ()  # terms of other features identical to this one in the data


@dataclass(frozen=True)
class Design:
    """Encoded features (NaN = missing) with one Term per column, and the features left out."""

    x: Array
    terms: list[Term]
    known_at_release: dict[str, bool]
    skipped: list[Skip] = field(default_factory=list)
    # Results that depend only on the design (collinearity pruning), shared across outcomes.
    cache: dict[object, object] = field(default_factory=dict, compare=False, repr=False)

    def columns_of(self, feature: str) -> list[int]:
        """Column indices that encode one feature."""
        return [i for i, t in enumerate(self.terms) if t.feature == feature]

    @property
    def features(self) -> list[str]:
        """Analysed features, in catalog order."""
        return list(dict.fromkeys(t.feature for t in self.terms))

    def kind_of(self, feature: str) -> str:
        """Feature kind (patient, treatment, process_parameter, cqa)."""
        return next(t.kind for t in self.terms if t.feature == feature)


def first_infusions(data: pl.DataFrame) -> pl.DataFrame:
    """Keep each subject's first infusion: later ones are not independent replications."""
    if "is_first_infusion" in data.columns:
        return data.filter(pl.col("is_first_infusion").fill_null(False))
    return data


def analysable_catalog(catalog: pl.DataFrame, data: pl.DataFrame) -> pl.DataFrame:
    """Catalog rows that are features of the four analysed kinds and exist in the data."""
    return catalog.filter(
        pl.col("feature_kind").is_in(list(FEATURE_KINDS)) & pl.col("feature").is_in(data.columns)
    ).unique(subset="feature", keep="first", maintain_order=True)


def _numeric_terms(
    name: str, kind: str, values: Array, cfg: AnalysisConfig
) -> tuple[Array, list[Term]] | str:
    ok = np.isfinite(values)
    if ok.sum() < 3:
        return "too few non-missing values"
    v = values[ok]
    _, counts = np.unique(v, return_counts=True)
    if counts.max() / v.size >= cfg.near_constant_share:
        return f"near-constant ({counts.max() / v.size:.1%} share one value)"
    transform = None
    if v.min() > 0 and stats.skew(v) > 1.0 and abs(stats.skew(np.log(v))) < stats.skew(v):
        # Right-skewed positive measures (tumour burden, LDH, cell counts) act on a log
        # scale; per-SD effects on the raw scale would be driven by a few extreme patients.
        values = np.log(values)
        v = values[ok]
        transform = "log"
    sd = float(v.std(ddof=1))
    z = (values - float(v.mean())) / sd
    return z[:, None], [Term(name, name, kind, "per_sd", sd, transform=transform)]


def _categorical_terms(
    name: str, kind: str, values: list[str | None], cfg: AnalysisConfig
) -> tuple[Array, list[Term]] | str:
    s = pl.Series(values, dtype=pl.String)
    counts = s.drop_nulls().value_counts(sort=True)
    total = int(counts["count"].sum())
    if total < 3:
        return "too few non-missing values"
    if counts["count"][0] / total >= cfg.near_constant_share:
        return f"near-constant ({counts['count'][0] / total:.1%} are {counts[s.name][0]})"
    # Rare levels are pooled: a level seen a handful of times gives no usable estimate.
    frequent = [lvl for lvl, c in counts.iter_rows() if c >= cfg.min_level_count]
    pooled = s.map_elements(
        lambda v: v if v in frequent else "other", return_dtype=pl.String, skip_nulls=True
    )
    levels = pooled.drop_nulls().value_counts(sort=True)[s.name].to_list()
    if len(levels) < 2:
        return "only one level with enough patients"
    reference = str(levels[0])  # the most frequent level is the reference
    missing = pooled.is_null().to_numpy()
    cols, terms = [], []
    for level in levels[1:]:
        col = (pooled == level).fill_null(False).to_numpy().astype(float)
        col[missing] = np.nan
        cols.append(col)
        terms.append(Term(f"{name}={level}", name, kind, "level", 1.0, reference))
    return np.column_stack(cols), terms


def _boolean_terms(
    name: str, kind: str, col: pl.Series, cfg: AnalysisConfig
) -> tuple[Array, list[Term]] | str:
    """A yes/no feature as one 0/1 column (effect of true vs false), named by the feature."""
    b = col.cast(pl.String).str.to_lowercase().replace({"1": "true", "0": "false"})
    present = b.drop_nulls()
    if present.len() < 3:
        return "too few non-missing values"
    share = float((present == "true").cast(pl.Float64).mean() or 0.0)  # type: ignore[arg-type]
    if max(share, 1 - share) >= cfg.near_constant_share:
        return f"near-constant ({max(share, 1 - share):.1%} share one value)"
    values = (b == "true").cast(pl.Float64).fill_null(np.nan).to_numpy()
    return values[:, None], [Term(name, name, kind, "binary", 1.0, "false")]


def build_design(frame: pl.DataFrame, catalog: pl.DataFrame, cfg: AnalysisConfig) -> Design:
    """Encode every analysable catalog feature: per-SD numerics, one-hot levels vs the commonest."""
    cat = analysable_catalog(catalog, frame)
    n = frame.height
    blocks: list[Array] = []
    terms: list[Term] = []
    skipped: list[Skip] = []
    known: dict[str, bool] = {}
    for row in cat.iter_rows(named=True):
        name, kind = str(row["feature"]), str(row["feature_kind"])
        col = frame[name]
        missing_share = col.null_count() / max(n, 1)
        if missing_share > cfg.max_missing_share:
            skipped.append(Skip(None, "findings", f"{missing_share:.0%} missing", n, None, name))
            continue
        dtype = str(row.get("dtype") or "")
        if col.dtype == pl.Boolean or dtype == "boolean":
            result = _boolean_terms(name, kind, col, cfg)
        elif col.dtype.is_numeric() and dtype != "categorical":
            result = _numeric_terms(
                name, kind, col.cast(pl.Float64).fill_null(np.nan).to_numpy(), cfg
            )
        else:
            result = _categorical_terms(name, kind, col.cast(pl.String).to_list(), cfg)
        if isinstance(result, str):
            skipped.append(Skip(None, "findings", result, n, None, name))
            continue
        block, new_terms = result
        blocks.append(block)
        terms.extend(new_terms)
        # Unknown timing counts as not known at release: leakage is the worse error.
        known[name] = row.get("known_at_release") is True
    x = np.column_stack(blocks) if blocks else np.empty((n, 0))
    x, terms, aliased = _merge_aliases(x.astype(float), terms)
    skipped += [
        Skip(None, "findings", f"identical to {kept} in these data: reported as {kept}", n, None, f)
        for f, kept in aliased.items()
    ]
    known = {f: v for f, v in known.items() if f not in aliased}
    return Design(x=x, terms=terms, known_at_release=known, skipped=skipped)


def _merge_aliases(x: Array, terms: list[Term]) -> tuple[Array, list[Term], dict[str, str]]:
    """Report features whose every column equals an earlier feature's column once, under that one.

    A CDMO whose only sites use one activation reagent and one bioreactor makes site, reagent
    and bioreactor the same column: three 'findings' would be one association that the data
    cannot attribute, counted three times against the false discovery rate.
    """
    aliased: dict[str, str] = {}  # dropped feature -> the term it is reported as
    alias_of: dict[int, list[str]] = {}  # kept column -> names of identical terms

    def same(i: int, j: int) -> bool:
        return terms[i].kind == terms[j].kind and np.array_equal(x[:, i], x[:, j], equal_nan=True)

    for feature in dict.fromkeys(t.feature for t in terms):
        cols = [i for i, t in enumerate(terms) if t.feature == feature]
        earlier = [i for i in range(cols[0]) if terms[i].feature not in aliased]
        matches = [next((k for k in earlier if same(k, c)), None) for c in cols]
        if all(m is not None for m in matches):
            for c, m in zip(cols, matches, strict=True):
                alias_of.setdefault(m, []).append(terms[c].name)  # type: ignore[arg-type]
            aliased[feature] = terms[matches[0]].name  # type: ignore[index]
    keep = [i for i, t in enumerate(terms) if t.feature not in aliased]
    # A level may equal a level of a feature that stays (the allogeneic product is the only one
    # made at its CDMO): both are reported, each naming the other.
    for i in keep:
        alias_of.setdefault(i, []).extend(terms[j].name for j in keep if j != i and same(i, j))
    merged = [replace(terms[i], aliases=tuple(alias_of[i])) for i in keep]
    return x[:, keep], merged, aliased


def impute_columns(x: Array) -> tuple[Array, list[int]]:
    """Mean-impute columns and append a missing indicator for each column with missing values."""
    out = x.copy()
    miss = ~np.isfinite(out)
    means = np.nanmean(np.where(miss, np.nan, out), axis=0) if out.size else np.zeros(0)
    means = np.where(np.isfinite(means), means, 0.0)
    out[miss] = np.take(means, np.nonzero(miss)[1])
    with_missing = [j for j in range(out.shape[1]) if miss[:, j].any() and not miss[:, j].all()]
    if with_missing:
        out = np.column_stack([out, miss[:, with_missing].astype(float)])
    return out, with_missing
