"""harness.host.caps: the capability bounding set versus the capabilities the kernel knows."""

from __future__ import annotations

import pytest

from harness.host.caps import bounding_mask, cap_name, missing_caps

pytestmark = pytest.mark.unit

FIRECRACKER_MASK = 0x000001FFFEFFFFFF  # all of 0..40 but bit 24 (CAP_SYS_RESOURCE)
STATUS = "Name:\tpython3\nCapInh:\t0000000000000000\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n"


def test_missing_sys_resource() -> None:
    assert missing_caps(FIRECRACKER_MASK, 40) == ["CAP_SYS_RESOURCE"]


def test_nothing_missing_with_full_set() -> None:
    assert missing_caps((1 << 41) - 1, 40) == []


def test_caps_beyond_the_name_table() -> None:
    assert missing_caps((1 << 41) - 1, 42) == ["CAP_41", "CAP_42"]


def test_cap_names() -> None:
    assert (cap_name(0), cap_name(21), cap_name(40)) == ("CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE")


def test_bounding_mask_parses_status() -> None:
    assert bounding_mask(STATUS) == FIRECRACKER_MASK


def test_bounding_mask_without_capbnd() -> None:
    with pytest.raises(ValueError, match="CapBnd"):
        bounding_mask("Name:\tpython3\n")
