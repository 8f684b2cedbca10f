module gluster-operator.io/hack/images/pause

go 1.24
