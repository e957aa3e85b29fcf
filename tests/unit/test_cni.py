"""harness.images.cni: the default CNI manifest kind finds in the node image."""

from __future__ import annotations

import json

import pytest
import yaml

from harness.images import cni

pytestmark = pytest.mark.unit

FLANNEL_IMAGE = "registry.k8s.io/kube-harness/flannel:v0.27.4"
SUBNET = "10.244.0.0/16"


def test_flannel_manifest_is_a_kind_template() -> None:
    text = cni.manifest("flannel", FLANNEL_IMAGE)
    assert "would you kindly template this file" in text
    assert "@FLANNEL_IMAGE@" not in text
    assert text.count(f"image: {FLANNEL_IMAGE}") == 1
    assert "{{ .PodSubnet }}" in text


def test_render_substitutes_the_pod_subnet() -> None:
    docs = list(yaml.safe_load_all(cni.render(cni.manifest("flannel", FLANNEL_IMAGE), SUBNET)))
    assert [d["kind"] for d in docs] == ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                         "ConfigMap", "DaemonSet"]  # fmt: skip
    (config,) = [d for d in docs if d["kind"] == "ConfigMap"]
    assert json.loads(config["data"]["net-conf.json"])["Network"] == SUBNET
    json.loads(config["data"]["cni-conf.json"])
    (daemonset,) = [d for d in docs if d["kind"] == "DaemonSet"]
    pod = daemonset["spec"]["template"]["spec"]
    assert [c["image"] for c in pod["containers"]] == [FLANNEL_IMAGE]
    assert "initContainers" not in pod  # kind patches the first container with CONTROL_PLANE_ENDPOINT
    script = pod["containers"][0]["command"][-1]
    # the node turns Ready when the CNI config appears: only once flanneld has written subnet.env
    assert script.index("until [ -s /run/flannel/subnet.env ]") < script.index("10-flannel.conflist")


def test_render_leaves_no_template_markers() -> None:
    assert "{{" not in cni.render(cni.manifest("flannel", FLANNEL_IMAGE), SUBNET)


def test_none_manifest_is_yaml() -> None:
    doc = yaml.safe_load(cni.manifest("none", FLANNEL_IMAGE))
    assert doc["kind"] == "ConfigMap"
    assert doc["data"] == {"cni": "none"}
