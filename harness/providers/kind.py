"""A kind cluster as a context manager: created on enter, always deleted on exit unless kept.

The logic is usable without pytest::

    with KindCluster("demo", image="kube-harness/node:v1.37.2") as c:
        print(c.kubectl("get", "nodes"))
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from harness.exec import Cmd
from harness.images import tools
from harness.progress import Progress
from harness.providers import kindconfig


@dataclass
class KindCluster:
    name: str
    image: str
    control_planes: int = 1
    workers: int = 2
    keep: bool = False
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kube-harness-kind-")))
    progress: Progress = field(default_factory=Progress)

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    def _kind(self) -> str:
        return str(tools.ensure_kind(self.progress))

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        argv = [str(tools.ensure_kubectl(self.progress)), "--kubeconfig", str(self.kubeconfig), *args]
        return Cmd(argv, input=input, timeout=180).run(check=check).stdout

    def kubectl_json(self, *args: str) -> dict:
        return json.loads(self.kubectl(*args, "-o", "json"))

    def create(self) -> KindCluster:
        config = self.workdir / "kind.yaml"
        config.write_text(kindconfig.render(self.control_planes, self.workers))
        argv = [self._kind(), "create", "cluster", "--name", self.name, "--image", self.image,
                "--config", str(config), "--kubeconfig", str(self.kubeconfig)]  # fmt: skip
        with self.progress.step(f"kind create cluster {self.name} ({self.control_planes}+{self.workers} nodes)",
                                f"kind-create-{self.name}") as log:  # fmt: skip
            Cmd(argv, timeout=900).run(log=log)
        return self

    def delete(self) -> None:
        Cmd([self._kind(), "delete", "cluster", "--name", self.name], timeout=300).run(check=False)

    def __enter__(self) -> KindCluster:
        try:
            return self.create()
        except BaseException:
            if not self.keep:
                self.delete()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.keep:
            self.delete()
        else:
            self.progress.say(f"kept cluster {self.name}; kubeconfig {self.kubeconfig}")
