"""Go builds through the module proxy: availability checks, wrapper modules, ``go build``.

``k8s.io/kubernetes`` cannot be ``go install``ed: its go.mod replaces every staging module
(``k8s.io/api``, ...) with a local path. A *wrapper module* requires it and replaces each staging
module with its ``v0.MINOR.PATCH`` release instead (or, with ``--from-source``, with the checkout's
``staging/src`` directories). The same module builds etcd, which Kubernetes already depends on.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
from pathlib import Path

from harness.errors import BuildError, UsageError
from harness.exec import Cmd
from harness.images.versions import KubeVersion
from harness.paths import go_cache

K8S_COMMANDS = [
    "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy",
    "kubelet", "kubeadm", "kubectl",
]  # fmt: skip
ETCD_MAIN = """package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
"""


def go_binary() -> str:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if os.path.exists("/usr/local/go/bin/go") else None)
    if not go:
        raise BuildError("no Go toolchain found", fix="install Go >= 1.26 (see `kube-harness doctor`)")
    return go


def go_env(cgo: bool = False) -> dict[str, str]:
    return {
        "GOCACHE": str(go_cache()),
        "GOFLAGS": "-mod=mod -buildvcs=false",
        "CGO_ENABLED": "1" if cgo else "0",
    }


def go_version() -> str:
    return Cmd([go_binary(), "env", "GOVERSION"]).run().stdout.strip()


@functools.cache  # validation and the build both ask; one `go mod download` per module and version
def module_info(module: str, version: str) -> dict[str, str]:
    """``go mod download`` one module; UsageError when the proxy does not serve that version."""
    res = Cmd([go_binary(), "mod", "download", "-json", f"{module}@{version}"], env=go_env(), cwd="/").run(check=False)
    try:
        info = json.loads(res.stdout) if res.stdout.strip() else {}
    except json.JSONDecodeError:
        info = {}
    if res.rc != 0 or "Error" in info or not info.get("Dir"):
        detail = info.get("Error") or res.stderr.strip()
        raise UsageError(
            f"the Go module proxy does not serve {module}@{version}: {detail}",
            fix=f"choose a version it serves (list them: go list -m -versions {module})",
        )
    return info


def staging_modules(kubernetes_gomod: str) -> list[str]:
    """The staging modules Kubernetes replaces with local paths in its go.mod."""
    return re.findall(r"^\s*(k8s\.io/[\w.-]+)\s*=>\s*\./staging/src/", kubernetes_gomod, re.M)


def wrapper_gomod(version: KubeVersion, kubernetes_gomod: str, source: Path | None = None) -> str:
    """go.mod of the wrapper module: requires Kubernetes, pins every staging module."""
    go_line = re.search(r"^go\s+(\S+)", kubernetes_gomod, re.M)
    lines = ["module kube-harness.local/build", "", f"go {go_line.group(1) if go_line else '1.24'}", ""]
    lines += ["require k8s.io/kubernetes " + ("v0.0.0" if source else version.text), "", "replace ("]
    if source:
        lines.append(f"\tk8s.io/kubernetes => {source}")
    for mod in staging_modules(kubernetes_gomod):
        target = f"{source}/staging/src/{mod}" if source else f"{mod} {version.staging}"
        lines.append(f"\t{mod} => {target}")
    lines += [")", ""]
    return "\n".join(lines)


def version_ldflags(version: KubeVersion) -> str:
    """-X flags that stamp the version into every Kubernetes binary (as hack/lib/version.sh does)."""
    flags = ["-s", "-w"]
    values = {
        "gitVersion": version.text, "gitMajor": "1", "gitMinor": str(version.minor),
        "gitTreeState": "clean", "buildDate": "1970-01-01T00:00:00Z",
    }  # fmt: skip
    for pkg in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version"):
        flags += [f"-X {pkg}.{k}={v}" for k, v in values.items()]
    return " ".join(flags)


def kubernetes_dir(version: KubeVersion, source: Path | None = None) -> Path:
    """The Kubernetes tree: the ``--from-source`` checkout or the module proxy's download."""
    return source if source else Path(module_info("k8s.io/kubernetes", version.text)["Dir"])


def prepare_wrapper(version: KubeVersion, workdir: Path, source: Path | None = None) -> Path:
    """Write the wrapper module into ``workdir``: Go commands run there build any package of
    Kubernetes (and of its module graph) at ``version``."""
    gomod = (kubernetes_dir(version, source) / "go.mod").read_text()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "go.mod").write_text(wrapper_gomod(version, gomod, source))
    return workdir


def build_kubernetes(
    version: KubeVersion, workdir: Path, out: Path, log: Path, source: Path | None = None,
    commands: list[str] | None = None, etcd: bool = True,
) -> None:  # fmt: skip
    """Build Kubernetes commands (default: all seven) and etcd into ``out``."""
    prepare_wrapper(version, workdir, source)
    (workdir / "etcd").mkdir(exist_ok=True)
    (workdir / "etcd" / "main.go").write_text(ETCD_MAIN)
    pkgs = [f"k8s.io/kubernetes/cmd/{c}" for c in (commands or K8S_COMMANDS)] + (["./etcd"] if etcd else [])
    out.mkdir(parents=True, exist_ok=True)
    argv = [go_binary(), "build", "-trimpath", "-ldflags", version_ldflags(version), "-o", str(out) + "/", *pkgs]
    Cmd(argv, env=go_env(), cwd=str(workdir)).run(log=log)


def go_install(module: str, version: str, out: Path, log: Path, cgo: bool = False, ldflags: str = "-s -w") -> None:
    """``go install module@version`` into ``out`` (for modules without local replaces)."""
    out.mkdir(parents=True, exist_ok=True)
    env = {**go_env(cgo), "GOBIN": str(out)}
    Cmd([go_binary(), "install", "-trimpath", "-ldflags", ldflags, f"{module}@{version}"], env=env, cwd="/").run(
        log=log
    )
