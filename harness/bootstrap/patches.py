"""kubeadm's own patch targets (``kubeadm init --patches``) that both node providers apply.

kubeadm reads them from a directory on the node (``InitConfiguration.patches.directory``): the
kubeadm provider writes the files there itself; the kind provider bind-mounts a host directory,
read-only, on its control planes. That host directory is named by its content and never rewritten,
so a kept cluster's mount stays valid whatever a later harness version writes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from harness.images.cache import key
from harness.paths import cache_root

KUBEADM_PATCHES_DIR = "/etc/kube-harness/kubeadm-patches"
# CoreDNS reports ready within 2 s of being ready instead of up to 10 s (its probe period), for test
# clusters that wait on DNS again and again.
KUBEADM_PATCH_FILES = {
    "corednsdeployment+strategic.yaml": """spec:
  template:
    spec:
      containers:
      - name: coredns
        readinessProbe:
          periodSeconds: 2
""",
}


def host_patches_dir() -> Path:
    """``<cache>/kubeadm-patches/<content hash>`` holding KUBEADM_PATCH_FILES (made once, atomically)."""
    path = cache_root() / "kubeadm-patches" / key("kubeadm-patches", files=KUBEADM_PATCH_FILES)
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=".tmp-"))
        for name, text in KUBEADM_PATCH_FILES.items():
            (tmp / name).write_text(text)
        tmp.chmod(0o755)
        try:
            os.rename(tmp, path)
        except OSError:  # another process made it first: same content
            for f in tmp.iterdir():
                f.unlink()
            tmp.rmdir()
    return path
