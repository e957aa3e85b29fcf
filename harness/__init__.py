"""kube-harness: real Kubernetes clusters for pytest, built and bootstrapped offline."""

__version__ = "0.1.0"
