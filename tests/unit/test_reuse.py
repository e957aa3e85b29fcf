"""Kept clusters between runs (--kh-reuse, --kh-reuse-cluster, --kh-create-cluster): the decisions."""

from __future__ import annotations

from typing import Any

import pytest

from harness.cluster import Cluster
from harness.errors import UsageError
from harness.pytest_plugin import reuse
from harness.spec import spec_from_kwargs

pytestmark = pytest.mark.unit


class Made:
    def __init__(self) -> None:
        self.made: list[tuple[str, str]] = []
        self.deleted: list[str] = []

    def create(self, spec: Any, provider: str) -> Cluster:
        self.made.append((spec.name, provider))
        cluster = Cluster(spec.name, provider, "run", spec=spec.model_dump(mode="json"), status="ready")
        cluster.save()
        return cluster


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> Made:
    rec = Made()
    monkeypatch.setattr(reuse, "delete_cluster", lambda name: rec.deleted.append(name) or [])
    monkeypatch.setattr(reuse, "_answers", lambda cluster: True)
    return rec


def test_missing_is_made_then_found_again(made: Made) -> None:
    spec = spec_from_kwargs(workers=2)
    first = reuse.reused("kh-dev", "kind", spec, fresh=False, create=made.create)
    again = reuse.reused("kh-dev", "kind", spec, fresh=False, create=made.create)
    assert first.name == again.name == "kh-dev" and made.made == [("kh-dev", "kind")] and made.deleted == []


def test_another_spec_is_refused_with_the_difference(made: Made) -> None:
    reuse.reused("kh-dev", "kind", spec_from_kwargs(workers=2), fresh=False, create=made.create)
    with pytest.raises(UsageError, match="other than the kept cluster kh-dev") as err:
        reuse.reused("kh-dev", "kubeadm", spec_from_kwargs(workers=2), fresh=False, create=made.create)
    assert "kubeadm" in err.value.message and "--kh-reuse" in (err.value.fix or "")


def test_create_cluster_remakes_it_and_a_dead_one_is_remade(made: Made, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = spec_from_kwargs(workers=1)
    reuse.reused("kh-dev", "kind", spec, fresh=False, create=made.create)
    reuse.reused("kh-dev", "kubeadm", spec, fresh=True, create=made.create)  # fresh: even another spec
    monkeypatch.setattr(reuse, "_answers", lambda cluster: False)
    reuse.reused("kh-dev", "kubeadm", spec, fresh=False, create=made.create)  # named: used as it is
    assert made.deleted == ["kh-dev"] and len(made.made) == 2
    reuse.reused("kh-dev", "kubeadm", spec, fresh=False, create=made.create, healthy=True)  # keyed: remade
    assert made.deleted == ["kh-dev", "kh-dev"] and len(made.made) == 3


def test_an_unmarked_test_takes_the_named_cluster_whatever_it_is(made: Made) -> None:
    reuse.reused("kh-dev", "kubeadm", spec_from_kwargs(control_planes=3, workers=1), fresh=False, create=made.create)
    found = reuse.reused("kh-dev", "kind", spec_from_kwargs(workers=2), fresh=False, create=made.create, strict=False)
    assert found.provider == "kubeadm" and len(made.made) == 1


def test_keyed_names_follow_the_spec() -> None:
    a, b = (reuse._key("kind", spec_from_kwargs(workers=n)) for n in (1, 2))
    assert a != b and reuse.keyed_name(a).startswith("kh-reuse-") and len(reuse.keyed_name(a)) <= 40
    assert reuse._key("kind", spec_from_kwargs(workers=1, name="x")) == a  # the name is not the spec
    assert reuse._key("kind", spec_from_kwargs(workers=1, node_image="kube-harness/node:v1.37.2")) == a
