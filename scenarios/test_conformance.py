"""The upstream e2e suite's DNS and Services ``[Conformance]`` specs on the session's cluster, with
every image built here (no registry): each spec is a test case of its own in the JUnit.

The suite and its images are built on first use (cached); `kube-harness conformance run` runs any
preset from the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = [pytest.mark.kh_cluster, pytest.mark.conformance]


@pytest.mark.parametrize("preset", ["dns", "services"])
def test_upstream_conformance(conformance: Callable[..., Any], preset: str) -> None:
    result = conformance(preset)
    assert result.count("passed") > 0, f"no spec of the {preset} preset ran"
