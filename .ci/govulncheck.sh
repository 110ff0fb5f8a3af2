#!/usr/bin/env bash
# Scans the module with govulncheck against the Go vulnerability database,
# fetched through the Go module proxy (the public vulnerability service is
# not reachable from our build machines) and indexed locally. Fails on any
# vulnerability reachable from our code.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")/.."
. .ci/tools.sh
TOOLS="$PWD/.tools"
mkdir -p "$TOOLS"
DIR=$(go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
if [ -z "$DIR" ]; then
  echo "govulncheck: could not download golang.org/x/vulndb@$VULNDB_VERSION" >&2
  exit 1
fi
GOBIN="$TOOLS" go install "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION"
GOBIN="$TOOLS" go install "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
if [ ! -f "$TOOLS/vulndb-$VULNDB_VERSION/index/db.json" ] && [ ! -d "$TOOLS/vulndb-$VULNDB_VERSION/ID" ]; then
  rm -rf "$TOOLS/vulndb-$VULNDB_VERSION"
  "$TOOLS/indexdb" -vulns "$DIR/data/osv" -out "$TOOLS/vulndb-$VULNDB_VERSION"
fi
"$TOOLS/govulncheck" -db "file://$TOOLS/vulndb-$VULNDB_VERSION" ./...
