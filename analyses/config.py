"""Settings and outcome definitions shared by every analysis."""

from dataclasses import dataclass, replace
from typing import Final, Literal

FEATURE_KINDS: Final = ("patient", "treatment", "process_parameter", "cqa")

BINARY_OUTCOMES: Final = ("cr", "orr", "crs_grade3plus", "icans_grade3plus")
# Time-to-event outcomes: name -> (days column, event column).
SURVIVAL_OUTCOMES: Final = {"pfs": ("pfs_days", "pfs_event"), "os": ("os_days", "os_event")}
# Efficacy outcomes: a higher rate is better; toxicity outcomes: a higher rate is worse.
EFFICACY_OUTCOMES: Final = frozenset({"cr", "orr"})

OutcomeType = Literal["binary", "survival"]


@dataclass(frozen=True)
class AnalysisConfig:
    """Thresholds, resampling counts and seeds for one analysis run (defaults are modest)."""

    min_n: int = 40
    min_events: int = 10
    events_per_variable: float = 5.0
    q_threshold: float = 0.10
    power: float = 0.80  # for the smallest detectable effect per outcome
    alpha: float = 0.05
    near_constant_share: float = 0.975
    max_missing_share: float = 0.75
    min_level_count: int = 5
    collinearity_r2: float = 0.8
    cv_folds: int = 5
    cv_repeats: int = 3
    n_boot: int = 200
    n_stability_boot: int = 30
    n_permutations: int = 3
    mediation_draws: int = 4000
    group_min_share: float = 0.08
    group_max_rules: int = 8
    holdout_share: float = 0.3
    spec_min_n_outside: int = 10
    spc_min_points: int = 8
    pca_variance: float = 0.8
    outlier_alpha: float = 0.01
    n_threads: int = 1
    # Past this many patients, repeated CV and many refits buy little precision but cost minutes.
    large_cohort: int = 3000
    large_cohort_cv_repeats: int = 1
    large_cohort_stability_boot: int = 10

    def scaled_for(self, n: int) -> "AnalysisConfig":
        """The settings for a cohort of n patients: fewer CV repeats and refits when n is large."""
        if n < self.large_cohort:
            return self
        return replace(
            self,
            cv_repeats=min(self.cv_repeats, self.large_cohort_cv_repeats),
            n_stability_boot=min(self.n_stability_boot, self.large_cohort_stability_boot),
        )
