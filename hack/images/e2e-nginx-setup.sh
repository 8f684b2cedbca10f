#!/bin/sh
# Run inside the e2e-nginx image after its packages are installed (hack/build-images).
set -eu
# The configuration Debian ships must load as it is.
nginx -t -q
# Logs go to the container's output, as in the upstream nginx image.
ln -sf /dev/stdout /var/log/nginx/access.log
ln -sf /dev/stderr /var/log/nginx/error.log
# What the test left behind: the running nginx writes its own.
rm -f /run/nginx.pid
