"""Providers make nodes (kind, kubeadm-in-containers, vagrant, existing clusters)."""
