"""The CNI manifest baked into the node image as ``/kind/manifests/default-cni.yaml``."""

from __future__ import annotations

from importlib import resources

import yaml

from harness import yamlio

FILES = resources.files("harness.images") / "files" / "cni"


def manifest(cni: str, flannel_image: str) -> str:
    """Manifest text for ``cni`` (``flannel`` or ``none``); kind fills ``{{ .PodSubnet }}``."""
    text = (FILES / f"{cni}.yaml").read_text()
    return text.replace("@FLANNEL_IMAGE@", flannel_image)


TEMPLATE_MARK = "would you kindly template this file"
PATCH_MARK = "would you kindly patch this file"


def render(text: str, pod_subnet: str, control_plane_endpoint: str | None = None) -> str:
    """What kind does with a CNI manifest, for providers that apply it themselves: fill the pod
    subnet when the template mark is present, and add ``CONTROL_PLANE_ENDPOINT`` to the first
    container of every DaemonSet when the patch mark is present."""
    if TEMPLATE_MARK in text:
        text = text.replace("{{ .PodSubnet }}", pod_subnet)
    if PATCH_MARK not in text or not control_plane_endpoint:
        return text
    docs = [d for d in yaml.safe_load_all(text) if d]
    for doc in docs:
        if doc.get("kind") == "DaemonSet":
            container = doc["spec"]["template"]["spec"]["containers"][0]
            container.setdefault("env", []).append({"name": "CONTROL_PLANE_ENDPOINT", "value": control_plane_endpoint})
    return yamlio.dump_all(docs, sort_keys=False)
