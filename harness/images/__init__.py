"""Offline builds: tools, Kubernetes binaries, pod images, the kind-compatible node image."""
