#!/usr/bin/env bash
# Install what `quizgen export pdf` and its tests need, on Debian or Ubuntu:
#   pdflatex with amsmath, amssymb, booktabs, geometry, fancyhdr  (texlive-latex-base, texlive-latex-recommended)
#   pdftoppm, which the tests use to render a page and check it is not blank  (poppler-utils)
# About 50 MB to download, 160 MB installed. Run as root or with sudo available.
set -euo pipefail

packages=(texlive-latex-base texlive-latex-recommended poppler-utils)

if ! command -v apt-get >/dev/null 2>&1; then
  echo "no apt-get here: install a TeX distribution with pdflatex (TeX Live or MiKTeX) and poppler; see docs/pdf.md" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}"
pdflatex --version | head -n 1
