"""The vagrant provider: nodes are libvirt VMs that Vagrant makes from the box built out of the
node image, reached over SSH; power faults go through libvirt (``virsh``)."""
