module kube-harness.local/echoserver

go 1.22
