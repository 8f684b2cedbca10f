//go:build tools

// Package tools keeps the commands hack/build-snapshotter builds in this wrapper module's go.mod and go.sum
// (`go mod tidy` would otherwise drop them): external-snapshotter's own module has replace directives that
// `go install ...@version` refuses, so they are built from here instead. The client/v8 import keeps that module a
// direct requirement at the same version: its config/crd holds the CRDs the script copies, and upstream's go.mod
// names an older client/v8 (it replaces it with ./client).
package tools

import (
	_ "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	_ "github.com/kubernetes-csi/external-snapshotter/v8/cmd/csi-snapshotter"
	_ "github.com/kubernetes-csi/external-snapshotter/v8/cmd/snapshot-controller"
)
