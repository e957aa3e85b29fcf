"""The ``kube-harness`` command."""
