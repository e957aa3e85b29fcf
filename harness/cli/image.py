"""``kube-harness image``: build, list and remove node images."""

from __future__ import annotations

from pathlib import Path

import click

from harness.images.build import CNIS, DEFAULT_VERSION


@click.group()
def image() -> None:
    """Offline node images (kind-compatible)."""


@image.command("build")
@click.option("--kubernetes-version", default=DEFAULT_VERSION, show_default=True, help="Release tag to build.")
@click.option("--cni", type=click.Choice(CNIS), default="flannel", show_default=True, help="Default CNI baked in.")
@click.option(
    "--from-source",
    type=click.Path(path_type=Path, file_okay=False),
    help="Build Kubernetes from this local checkout instead of the module proxy.",
)
@click.option("--kubeadm-binary", type=click.Path(path_type=Path), help="Use this kubeadm instead of the built one.")
@click.option("--kubelet-binary", type=click.Path(path_type=Path), help="Use this kubelet instead of the built one.")
@click.option(
    "--preload",
    type=click.Path(path_type=Path),
    multiple=True,
    help="Extra image archive (docker save / OCI tar) to preload; repeatable.",
)
@click.option("--tag", help="Image tag (default kube-harness/node:VERSION, plus a key suffix for variants).")
@click.option("--mirror", help="Debian mirror URL (default: the one this host's apt uses).")
@click.option("--vm", is_flag=True,
              help="Then make a vagrant-libvirt box of the node image (Debian kernel, sshd, the vagrant user; "
                   "cached by the image and recipe) and print its path and Vagrant box name.")  # fmt: skip
def build(kubernetes_version: str, cni: str, from_source: Path | None, kubeadm_binary: Path | None,
          kubelet_binary: Path | None, preload: tuple[Path, ...], tag: str | None,
          mirror: str | None, vm: bool) -> None:  # fmt: skip
    """Build the node image from Debian packages and Go modules (cached by inputs); with --vm, also its box."""
    from harness.images.build import BuildOptions, build_node_image

    opts = BuildOptions(
        kubernetes_version, cni, from_source, kubeadm_binary, kubelet_binary, list(preload), tag, mirror
    )
    if not vm:
        click.echo(build_node_image(opts))
        return
    from harness.images.vmbox import box_name, build_box

    box = build_box(opts)
    click.echo(f"{box}\n{box_name(box)}")


@image.command("ls")
def ls() -> None:
    """List node images built by the harness."""
    from harness.images.store import list_images

    rows = list_images()
    click.echo(f"{'IMAGE':45} {'KUBERNETES':12} {'SIZE':>9}  BUILD KEY")
    for row in rows:
        click.echo(f"{row.tag:45} {row.kubernetes:12} {row.size_mb:>7}MB  {row.build_key}")


@image.command("rm")
@click.argument("tags", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Remove every node image the harness built.")
@click.option("--cache", is_flag=True, help="Also delete the build cache (binaries, rootfs).")
def rm(tags: tuple[str, ...], all_: bool, cache: bool) -> None:
    """Remove node images (and, with --cache, the build cache)."""
    from harness.images.store import remove

    for line in remove(list(tags), all_, cache):
        click.echo(line)
