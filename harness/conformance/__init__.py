"""Upstream conformance offline: the Kubernetes e2e suite and its test images built here from Go
modules and Debian packages, loaded into the nodes without a registry, run by preset.

    suite = build_suite(version, progress)           # e2e.test, ginkgo, kubectl (cached)
    archive = build_images(suite, progress)          # the images `e2e.test --list-images` names
    load_cluster(cluster, archive, progress)         # into every node's containerd
    result = conformance(cluster, "dns", progress)   # all of the above, then ginkgo
"""
