"""The kubeadm bootstrap flow, written against the Node interface only: the same phases run on
node containers and on VMs."""
