"""harness.providers.containers.priority: a cluster made in the background yields the CPU until ready or wanted."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from docker.errors import NotFound

from harness.providers.base import LABEL_CLUSTER
from harness.providers.containers import priority

pytestmark = pytest.mark.unit


class FakeAPI:
    """The two Docker API calls priority makes: list a cluster's containers, update their shares."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.not_yet: set[str] = set()  # listed but not updatable yet (being made)
        self.shares: dict[str, int] = {}

    def containers(self, all: bool, filters: dict[str, str]) -> list[dict[str, str]]:
        return [{"Id": i} for i in self.ids] if filters["label"] == f"{LABEL_CLUSTER}=demo" else []

    def update_container(self, cid: str, cpu_shares: int) -> None:
        if cid in self.not_yet:
            raise NotFound("no such container")
        self.shares[cid] = cpu_shares


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeAPI:
    fake = FakeAPI()
    monkeypatch.setattr(priority.dockerapi, "client", lambda: SimpleNamespace(api=fake))
    return fake


def soon(check: Callable[[], Any]) -> None:
    deadline = time.monotonic() + 5
    while not check():
        assert time.monotonic() < deadline, "the background thread did not get there"
        time.sleep(0.01)


def test_nodes_made_meanwhile_are_lowered_then_restored(api: FakeAPI) -> None:
    with priority.background("demo", interval=0.01):
        api.ids.append("cp")
        soon(lambda: api.shares.get("cp") == priority.BACKGROUND_SHARES)
        api.ids.append("worker")
        soon(lambda: api.shares.get("worker") == priority.BACKGROUND_SHARES)
    assert api.shares == {"cp": priority.DEFAULT_SHARES, "worker": priority.DEFAULT_SHARES}


def test_a_node_not_updatable_yet_is_lowered_on_a_later_poll(api: FakeAPI) -> None:
    api.ids, api.not_yet = ["cp"], {"cp"}
    with priority.background("demo", interval=0.01):
        time.sleep(0.05)
        api.not_yet.clear()
        soon(lambda: api.shares.get("cp") == priority.BACKGROUND_SHARES)


def test_urgent_restores_the_default_share_before_the_end(api: FakeAPI) -> None:
    api.ids = ["cp"]
    wanted = [False]
    with priority.background("demo", urgent=lambda: wanted[0], interval=0.01):
        soon(lambda: api.shares.get("cp") == priority.BACKGROUND_SHARES)
        wanted[0] = True
        soon(lambda: api.shares.get("cp") == priority.DEFAULT_SHARES)
        api.ids.append("late")  # made after the test asked: never lowered
        time.sleep(0.05)
        assert "late" not in api.shares
