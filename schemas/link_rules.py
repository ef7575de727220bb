"""Kinds of break in the chain of identity, how severe each is, and whether it stops the analyses."""

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class LinkRule:
    """One link issue kind; ``blocks_analysis`` when it would pin one patient's outcome on another's product."""

    kind: str
    severity: Literal["error", "warning"]
    blocks_analysis: bool
    meaning: str


LINK_RULES: tuple[LinkRule, ...] = (
    LinkRule(
        "orphan_infusion",
        "error",
        True,
        "the infused lot is unknown to every manufacturing delivery",
    ),
    LinkRule(
        "coi_mismatch",
        "error",
        True,
        "chain-of-identity ids of collection, lot and patient disagree: the product may be another patient's",
    ),
    LinkRule(
        "subject_mismatch",
        "error",
        True,
        "an autologous lot was infused into a patient it was not made for",
    ),
    LinkRule(
        "autologous_lot_multiple_subjects",
        "error",
        True,
        "one autologous lot is linked to several patients",
    ),
    # An unreleased lot that was infused is a quality event, but the link itself is sound.
    LinkRule(
        "lot_not_released",
        "error",
        False,
        "an infused lot has no release disposition or was rejected",
    ),
    LinkRule(
        "infusion_before_release",
        "warning",
        False,
        "infused before its release date: release at risk or wrong dates",
    ),
    LinkRule("subject_without_infusion", "warning", False, "a patient has no infusion (yet)"),
    LinkRule(
        "record_without_subject",
        "warning",
        False,
        "responses, adverse events, follow-up or infusions of a patient no delivery describes",
    ),
    LinkRule(
        "infusion_without_outcome",
        "warning",
        False,
        "no response or follow-up after the follow-up window",
    ),
)

LINK_RULE_BY_KIND: dict[str, LinkRule] = {r.kind: r for r in LINK_RULES}
