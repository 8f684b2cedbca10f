# shellcheck shell=bash
# kube_ldflags: the -ldflags that stamp KUBE_VERSION (hack/control-plane/versions.env, sourced first) into a
# binary built from k8s.io/kubernetes, as its own release build does, so `kubectl version`, the apiserver and
# e2e.test report the pinned version. Sourced by hack/build-control-plane and hack/build-e2e-test.
kube_ldflags() {
  local pkg=k8s.io/component-base/version minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  echo "-s -w -checklinkname=0 -X $pkg.gitVersion=${KUBE_VERSION} -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor} -X $pkg.gitTreeState=clean"
}
