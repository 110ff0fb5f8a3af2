#!/usr/bin/env bash
# Pinned versions of the tools CI installs. Updating one is a one-line change.
STATICCHECK_VERSION=v0.8.2
GOVULNCHECK_VERSION=v1.9.0
# The Go vulnerability database, served by the module proxy as a module.
VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
