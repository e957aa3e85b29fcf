"""Named selections of the upstream e2e suite, and the specs no offline cluster can pass.

A preset is a ginkgo focus and skip. Serial and Disruptive specs are never in a preset: they
assume a cluster nobody else uses at the same time, and they run at ``--parallel``.
The quarantine is applied by default and always listed in the report, with its reason.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from harness.errors import UsageError

NOT_ALONE = r"\[Serial\]|\[Disruptive\]"


@dataclass(frozen=True)
class Preset:
    name: str
    terms: tuple[str, ...]  # a spec is in the preset when its name matches every one (any order)
    skip: str
    about: str

    @property
    def focus(self) -> str:
        return all_of(*self.terms)


def all_of(*terms: str) -> str:
    """A regular expression matching text that matches every term, in any order. ginkgo's regexp
    (RE2) has no lookahead, so it lists the orders: fine for the two or three terms used here."""
    return "|".join("(?:" + ".*".join(f"(?:{t})" for t in order) + ")" for order in itertools.permutations(terms))


CONFORMANCE = r"\[Conformance\]"
PRESETS = {
    p.name: p
    for p in (
        Preset("conformance", (CONFORMANCE,), NOT_ALONE, "every [Conformance] spec but Serial/Disruptive"),
        Preset("conformance-lite", (CONFORMANCE,), NOT_ALONE + r"|\[Slow\]",
               "[Conformance] without Serial, Disruptive and Slow specs"),
        Preset("network", (r"\[sig-network\]", CONFORMANCE), NOT_ALONE, "sig-network [Conformance]"),
        Preset("dns", (r"\[sig-network\] DNS ", CONFORMANCE), NOT_ALONE, "sig-network DNS [Conformance]"),
        Preset("services", (r"\[sig-network\] Services ", CONFORMANCE), NOT_ALONE,
               "sig-network Services [Conformance]"),
        Preset("apps", (r"\[sig-apps\]", CONFORMANCE), NOT_ALONE, "sig-apps [Conformance]"),
        Preset("node", (r"\[sig-node\]", CONFORMANCE), NOT_ALONE, "sig-node [Conformance]"),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Quarantined:
    """A spec (regular expression on its full name) that cannot pass offline by design, and why."""

    pattern: str
    reason: str


# Only what no offline cluster can pass: a failure anywhere else is a defect to fix, not to list.
QUARANTINE: tuple[Quarantined, ...] = (
    Quarantined(r"\[sig-node\] ImageVolume .*pull policy of Always",
                "an image volume with pullPolicy Always makes the kubelet pull from the image's registry "
                "(registry.k8s.io) even when the image is on the node: there is no registry offline"),
    Quarantined(r"\[sig-auth\] Projected PodCertificate .*mTLS connection",
                "its server and client Deployments set imagePullPolicy Always on agnhost, so the kubelet "
                "pulls from registry.k8s.io even though the image is on the node: there is no registry offline"),
)  # fmt: skip


@dataclass(frozen=True)
class Selection:
    """What a run asks ginkgo for: the preset's focus and skip, the user's, and the quarantine."""

    preset: Preset
    focus: str
    skip: str
    quarantine: tuple[Quarantined, ...]

    def ginkgo_args(self) -> list[str]:
        skips = [s for s in (self.skip, *(q.pattern for q in self.quarantine)) if s]
        return [f"--focus={self.focus}"] + ([f"--skip={'|'.join(f'(?:{s})' for s in skips)}"] if skips else [])

    def quarantined(self, spec: str) -> Quarantined | None:
        return next((q for q in self.quarantine if re.search(q.pattern, spec)), None)


def select(preset: str, focus: str | None = None, skip: str | None = None, quarantine: bool = True) -> Selection:
    """The preset narrowed by ``focus`` (AND) and widened skips by ``skip`` (OR); bad input named here."""
    if preset not in PRESETS:
        raise UsageError(f"unknown conformance preset {preset!r}", fix=f"use one of: {', '.join(PRESETS)}")
    for flag, value in (("--focus", focus), ("--skip", skip)):
        if value:
            try:
                re.compile(value)
            except re.error as exc:
                example = f"{flag} '\\[sig-network\\]'"
                raise UsageError(
                    f"{flag} {value!r} is not a regular expression: {exc}",
                    fix=f"quote it for the shell and escape brackets, e.g. {example}",
                ) from None
    base = PRESETS[preset]
    full_focus = all_of(*base.terms, focus) if focus else base.focus
    full_skip = "|".join(s for s in (base.skip, skip) if s)
    return Selection(base, full_focus, full_skip, QUARANTINE if quarantine else ())
