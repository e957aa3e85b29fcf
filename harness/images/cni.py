"""The CNI manifest baked into the node image as ``/kind/manifests/default-cni.yaml``."""

from __future__ import annotations

from importlib import resources

FILES = resources.files("harness.images") / "files" / "cni"


def manifest(cni: str, flannel_image: str) -> str:
    """Manifest text for ``cni`` (``flannel`` or ``none``); kind fills ``{{ .PodSubnet }}``."""
    text = (FILES / f"{cni}.yaml").read_text()
    return text.replace("@FLANNEL_IMAGE@", flannel_image)


def render(text: str, pod_subnet: str) -> str:
    """What kind does with the template, for providers that apply the manifest themselves."""
    return text.replace("{{ .PodSubnet }}", pod_subnet)
