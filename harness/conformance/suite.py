"""The upstream e2e suite built here: ``e2e.test``, ``ginkgo``, ``kubectl`` and the Go programs the
e2e test images carry, from the same wrapper module (and Go cache) as the node image's binaries.

One artifact per Kubernetes version (or ``--from-source`` tree), Go version and package list:
a second ``conformance build`` only checks its key.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from harness.exec import Cmd
from harness.images import gobuild
from harness.images.cache import Artifact, hash_tree
from harness.images.versions import KubeVersion
from harness.progress import Progress

E2E_PACKAGE = "k8s.io/kubernetes/test/e2e"
# programs an e2e test image runs: output name -> Go package (all inside the wrapper module's graph)
PROGRAMS = {
    "ginkgo": "github.com/onsi/ginkgo/v2/ginkgo",
    "kubectl": "k8s.io/kubernetes/cmd/kubectl",
    "agnhost": "k8s.io/kubernetes/test/images/agnhost",
    "nnp": "k8s.io/kubernetes/test/images/nonewprivs",
    "regression-issue-74839": "k8s.io/kubernetes/test/images/regression-issue-74839",
    "resource-consumer": "k8s.io/kubernetes/test/images/resource-consumer",
    "consume-cpu": "k8s.io/kubernetes/test/images/resource-consumer/consume-cpu",
    "sample-apiserver": "k8s.io/sample-apiserver",
}


@dataclass(frozen=True)
class Suite:
    """Where a built suite is: ``bin/`` holds e2e.test and every program; ``images/`` the test
    images' source files (agnhost's TLS pair, kitten's and nautilus' pages)."""

    root: Path
    version: KubeVersion

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def e2e_test(self) -> Path:
        return self.bin / "e2e.test"

    @property
    def ginkgo(self) -> Path:
        return self.bin / "ginkgo"

    @property
    def kubectl(self) -> Path:
        return self.bin / "kubectl"

    @property
    def files(self) -> Path:
        return self.root / "images"

    def list_images(self) -> list[str]:
        """The images this e2e.test names (``--list-images``): the only source of names and tags."""
        out = Cmd([str(self.e2e_test), "--list-images"]).run().stdout
        return sorted({line.strip() for line in out.splitlines() if line.strip() and "/" in line})


def suite_inputs(version: KubeVersion, source: Path | None) -> dict[str, object]:
    return {
        "version": version.text,
        "go": gobuild.go_version(),
        "source": hash_tree(source) if source else None,
        "ldflags": gobuild.version_ldflags(version),
        "programs": PROGRAMS,
    }


def build_suite(version: KubeVersion, progress: Progress, source: Path | None = None) -> Suite:
    """The suite for ``version``, built (cached by its inputs) if this cache has none."""
    art = Artifact("e2e-suite", suite_inputs(version, source))
    if art.done:
        progress.say(f"ok  e2e suite {version} (cached {art.id})")
        return Suite(art.path, version)
    path = art.begin()
    with progress.step(f"build the e2e suite {version} (e2e.test, ginkgo, kubectl, test programs)", "e2e-suite") as log:
        work = path / "src"
        gobuild.prepare_wrapper(version, work, source)
        env, ldflags = gobuild.go_env(), gobuild.version_ldflags(version)
        go = gobuild.go_binary()
        e2e = [go, "test", "-c", "-vet=off", "-trimpath", "-ldflags", ldflags, "-o", str(path / "bin" / "e2e.test")]
        Cmd([*e2e, E2E_PACKAGE], env=env, cwd=str(work)).run(log=log)
        for name, pkg in PROGRAMS.items():
            Cmd([go, "build", "-trimpath", "-ldflags", ldflags, "-o", str(path / "bin" / name), pkg],
                env=env, cwd=str(work)).run(log=log)  # fmt: skip
        _copy_image_files(gobuild.kubernetes_dir(version, source), path / "images")
        shutil.rmtree(work)
    art.finish()
    return Suite(path, version)


IMAGE_FILES = {
    "agnhost/porter/localhost.crt": "agnhost/localhost.crt",
    "agnhost/porter/localhost.key": "agnhost/localhost.key",
    "kitten/html/kitten.jpg": "kitten/kitten.jpg",
    "kitten/html/data.json": "kitten/data.json",
    "nautilus/html/nautilus.jpg": "nautilus/nautilus.jpg",
    "nautilus/html/data.json": "nautilus/data.json",
}


def _copy_image_files(kubernetes: Path, out: Path) -> None:
    """The files upstream's image Dockerfiles ADD from ``test/images`` (the TLS pair is a public test
    fixture of the Kubernetes tree, not a secret of any cluster)."""
    for src, dest in IMAGE_FILES.items():
        (out / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kubernetes / "test" / "images" / src, out / dest)
