"""kubeadm in containers: node containers from the node image, the operator's flow run as phases."""
