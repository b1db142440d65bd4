#!/usr/bin/env sh
# Fetches the Jenkins JUnit schema (junit-10.xsd) from a registry CI
# reaches: pytest's source distribution on PyPI carries a copy
# (testing/example_scripts/junit-10.xsd), which pytest's own tests validate
# its JUnit files against. The archive is pinned by its SHA-256; does
# nothing when the schema is already here.
set -eu
cd "$(dirname "$0")"
archive_sha256=965370d062bce11e73868e0335abac31b4d3de0e82f4007408d242b4f8610761
url="https://files.pythonhosted.org/packages/05/35/30e0d83068951d90a01852cb1cef56e5d8a09d20c7f511634cc2f7e0372a/pytest-8.3.4.tar.gz"
member=pytest-8.3.4/testing/example_scripts/junit-10.xsd
if [ ! -s junit-10.xsd ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    curl -fsSL --retry 3 "$url" -o "$tmp/pytest.tar.gz"
    echo "$archive_sha256  $tmp/pytest.tar.gz" | sha256sum -c --quiet -
    tar -xzf "$tmp/pytest.tar.gz" -C "$tmp" "$member"
    mv "$tmp/$member" junit-10.xsd
fi
