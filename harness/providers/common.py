"""Phases every provider shares."""

from __future__ import annotations

from harness.images.build import BuildOptions, build_node_image
from harness.phases.engine import Context
from harness.progress import Progress


def resolve_image(ctx: Context) -> None:
    """The spec's node image, or the default image for its Kubernetes version (built if needed)."""
    spec = ctx.data["spec"]
    if spec.node_image:
        ctx.data["image"] = spec.node_image
    else:
        opts = BuildOptions(kubernetes_version=spec.kubernetes_version)
        ctx.data["image"] = build_node_image(opts, Progress(tick=60, quiet=True))
    ctx.say(f"node image: {ctx.data['image']}")
