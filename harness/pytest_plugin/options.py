"""Options of the plugin: command line (``--kh-<name>``, dest ``kh_<name>``), ini
(``kube_harness_<name>``) and environment (``KUBE_HARNESS_<NAME>``); the command line wins over the
environment, which wins over the ini. Every name is ours: pytest-kind also registers
``--keep-cluster`` and ``--kubeconfig``, and two plugins registering one dest cannot be loaded together."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from harness.providers import registry


@dataclass(frozen=True)
class Option:
    name: str  # dest, e.g. "provider"
    help: str
    default: str | None = None
    flag: bool = False
    choices: tuple[str, ...] | None = None

    @property
    def cli(self) -> str:
        return "--kh-" + self.name.replace("_", "-")

    @property
    def dest(self) -> str:
        return "kh_" + self.name

    @property
    def env(self) -> str:
        return "KUBE_HARNESS_" + self.name.upper()

    @property
    def ini(self) -> str:
        return "kube_harness_" + self.name


OPTIONS = [
    Option("provider", "provider of the clusters tests ask for", "kind", choices=tuple(registry.names())),
    Option("spec", "ClusterSpec YAML of the default cluster (default: 1 control plane + 2 workers)"),
    Option("node_image", "node image to use instead of building the default one"),
    Option("kubeconfig", "with --kh-provider existing: the kubeconfig of a cluster made elsewhere"),
    Option("keep_cluster", "keep clusters after the session (attach later with --kh-reuse-cluster)", flag=True),
    Option(
        "reuse_cluster",
        "run every shared-cluster test on this kept cluster (made when missing; a test "
        "asking for another cluster is refused)",
    ),
    Option(
        "reuse",
        "keep shared clusters between runs, one per provider and spec (kh-reuse-<key>), made when missing",
        flag=True,
    ),
    Option(
        "create_cluster", "with --kh-reuse or --kh-reuse-cluster: delete the kept cluster and make it anew", flag=True
    ),
    Option(
        "artifacts_dir",
        "where failure bundles go (default: the reports folder: $KUBE_HARNESS_REPORTS, $ARTIFACTS or ./reports)",
        "",
    ),
    Option("html", "write the session's HTML report to this file at the end", ""),
]


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("kube-harness", "real Kubernetes clusters (kube-harness)")
    for opt in OPTIONS:
        text = f"{opt.help} (env {opt.env}, ini {opt.ini})"
        flag = opt.cli
        if opt.flag:
            group.addoption(flag, action="store_true", default=None, dest=opt.dest, help=text)
            parser.addini(opt.ini, text, type="bool", default=False)
        else:
            group.addoption(flag, default=None, dest=opt.dest, choices=opt.choices, help=text)
            parser.addini(opt.ini, text, default=opt.default)


def resolve_options(config: pytest.Config) -> None:
    """Fold environment and ini values into ``config.option`` so fixtures read one place."""
    for opt in OPTIONS:
        value = config.getoption(opt.dest)
        if value is None and opt.env in os.environ:
            raw = os.environ[opt.env]
            value = raw.lower() in ("1", "true", "yes") if opt.flag else raw
        if value is None:
            value = config.getini(opt.ini)
        if opt.choices and value not in opt.choices:
            raise pytest.UsageError(f"kube-harness: {opt.name}={value!r} (from {opt.env} or {opt.ini}) is not one of "
                                    f"{', '.join(opt.choices)}")  # fmt: skip
        setattr(config.option, opt.dest, value)
