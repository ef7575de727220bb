"""Settings and outcome definitions shared by every analysis."""

from dataclasses import dataclass, field, replace
from typing import Final, Literal

FEATURE_KINDS: Final = ("patient", "treatment", "process_parameter", "cqa")

BINARY_OUTCOMES: Final = ("cr", "orr", "crs_grade3plus", "icans_grade3plus")
# Time-to-event outcomes: name -> (days column, event column).
SURVIVAL_OUTCOMES: Final = {"pfs": ("pfs_days", "pfs_event"), "os": ("os_days", "os_event")}
# Toxicity grades (ASTCT 2019) as ordinal outcomes: name -> worst-grade column.
ORDINAL_OUTCOMES: Final = {"crs_grade": "worst_crs_grade", "icans_grade": "worst_icans_grade"}
# Time from infusion to toxicity onset, among patients with that toxicity: name -> days column
# (derived from adverse-event onset dates by analyses.toxicity.add_onset_days).
ONSET_OUTCOMES: Final = {"crs_onset": "crs_onset_days", "icans_onset": "icans_onset_days"}
# Efficacy outcomes: a higher rate is better; toxicity outcomes: a higher rate is worse.
EFFICACY_OUTCOMES: Final = frozenset({"cr", "orr"})

OutcomeType = Literal["binary", "survival", "ordinal", "continuous"]


@dataclass(frozen=True)
class GroupSettings:
    """Subgroup discovery: candidate thresholds, rule length, cross-fitting and stability."""

    # A group is conditions together: one threshold on one feature is a main effect (its
    # per-SD effect is in findings), and it would pass for a group wherever the outcome
    # bends away from a straight line in that feature.
    min_conditions: int = 2
    max_conditions: int = 3
    n_thresholds: int = 9  # starting cuts per numeric feature (deciles); kept rules are refined
    min_share: float = 0.03  # smallest group searched, as a share of the analysed rows
    min_size: int = 15
    beam_width: int = 12  # rules kept per length while growing them
    max_rules: int = 5
    min_abs_z: float = 2.0  # a rule departing less from its expected events is not kept
    # Each condition must raise |z| over the rule without it and split that rule apart.
    min_gain: float = 0.5
    min_split_z: float = 2.0
    max_overlap: float = 0.5  # Jaccard above which two rules are the same group
    folds: int = 5  # cross-fitting: rules found on k-1 folds, measured on the held-out fold
    repeats: int = 2
    min_stability: float = 0.5  # share of the cross-fit training parts finding the rule again
    match_jaccard: float = 0.7  # a rule found again shares at least this much membership
    large_cohort_repeats: int = 1


@dataclass(frozen=True)
class ToxicitySettings:
    """Toxicity by grade: onset window and the minimum events per grade split."""

    onset_window_days: int = 90
    min_split_events: int = 10


@dataclass(frozen=True)
class ManufacturingSettings:
    """Lot outcomes, capability and cost of poor quality (per-lot costs are the user's own)."""

    # Process-parameter codes that are yields of the culture, not settings of it: outcomes,
    # never candidates.
    yield_codes: tuple[str, ...] = ("fold_expansion", "population_doublings")
    dose_code: str = "total_viable_cells"  # dose achieved, against its lower specification
    min_lots: int = 20
    # A process change costs a validation campaign: lot findings are held to a stricter FDR
    # than the patient findings' q_threshold.
    q_threshold: float = 0.05
    capability_min_lots: int = 10
    capability_confidence: float = 0.95
    # Costs are the user's own (rtr knows rates, not prices); 0 leaves the costs empty.
    cost_per_lot: float = 0.0  # manufacturing + QC of one lot: what a rejected lot loses
    investigation_cost_per_failure: float = 0.0  # deviation, OOS investigation, disposal
    remake_cost_per_lot: float = 0.0  # on top of the lot: expedited slot, re-collection
    cost_currency: str = "USD"


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
    spec_min_n_outside: int = 10
    spc_min_points: int = 8
    pca_variance: float = 0.8
    outlier_alpha: float = 0.01
    n_threads: int = 1
    # Past this many patients, repeated CV and many refits buy little precision but cost minutes.
    large_cohort: int = 3000
    large_cohort_cv_repeats: int = 1
    large_cohort_stability_boot: int = 10
    groups: GroupSettings = field(default_factory=GroupSettings)
    toxicity: ToxicitySettings = field(default_factory=ToxicitySettings)
    manufacturing: ManufacturingSettings = field(default_factory=ManufacturingSettings)

    def scaled_for(self, n: int) -> "AnalysisConfig":
        """The settings for a cohort of n patients: fewer CV repeats and refits when n is large."""
        if n < self.large_cohort:
            return self
        g = self.groups
        return replace(
            self,
            cv_repeats=min(self.cv_repeats, self.large_cohort_cv_repeats),
            n_stability_boot=min(self.n_stability_boot, self.large_cohort_stability_boot),
            groups=replace(
                g,
                repeats=min(g.repeats, g.large_cohort_repeats),
            ),
        )
