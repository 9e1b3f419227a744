#!/usr/bin/env bash
# Installs what the end-to-end tests need, from Debian and the npm registry only, and does nothing when it
# is already there: Debian's chromium (driven by playwright-core), and code-server (a real VS Code) in .e2e/.
set -euo pipefail
cd "$(dirname "$0")/../.."

CODE_SERVER_VERSION=4.100.3
# The ripgrep release that code-server's @vscode/ripgrep asks for; its postinstall takes a tarball already in
# its cache instead of downloading one, and Debian's rg serves as well.
RIPGREP_CACHE=vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

apt_packages=(chromium ripgrep libkrb5-dev)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "e2e:setup: please install the Debian packages ${missing[*]} (as root), then run it again" >&2
    exit 1
  fi
  echo "e2e:setup: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

dir=.e2e/code-server
stamp="$dir/installed-$CODE_SERVER_VERSION"
if [ ! -f "$stamp" ]; then
  echo "e2e:setup: installing code-server@$CODE_SERVER_VERSION into $dir (a few minutes)"
  rm -rf "$dir"
  mkdir -p "$dir" .e2e/tmp
  echo '{ "private": true }' >"$dir/package.json"
  tarball=".e2e/tmp/$RIPGREP_CACHE"
  mkdir -p "$(dirname "$tarball")"
  staging=$(mktemp -d)
  cp "$(command -v rg)" "$staging/rg"
  tar -czf "$tarball" -C "$staging" rg
  rm -rf "$staging"
  # npm_config_build_from_source: prebuild-install and node-pre-gyp (kerberos, argon2) build with node-gyp
  # against the local Node headers instead of trying to download binaries. npm_config_yes: node-pty's
  # postinstall runs npx. TMPDIR: where @vscode/ripgrep looks for its cache.
  TMPDIR="$PWD/.e2e/tmp" npm_config_build_from_source=true npm_config_yes=true \
    npm install --prefix "$dir" --unsafe-perm --no-audit --no-fund --loglevel=error \
    "code-server@$CODE_SERVER_VERSION" >"$dir/install.log" 2>&1 || {
    tail -n 40 "$dir/install.log" >&2
    echo "e2e:setup: code-server install failed; the whole log is in $dir/install.log" >&2
    exit 1
  }
  touch "$stamp"
fi

echo "e2e:setup: ready ($(chromium --version 2>/dev/null | head -n 1); code-server $CODE_SERVER_VERSION)"
