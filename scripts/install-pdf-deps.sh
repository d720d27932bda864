#!/usr/bin/env bash
# Install what `quizgen export pdf` and its tests need, on Debian or Ubuntu:
#   pdflatex with amsmath, amssymb, booktabs, geometry, fancyhdr  (texlive-latex-base, texlive-latex-recommended)
#   pdftoppm, pdftotext, pdffonts, which the tests use to read the PDFs  (poppler-utils)
#   lualatex and a CJK font, for names in any script  (texlive-luatex, fonts-wqy-microhei)
# About 85 MB to download, 240 MB installed. Run as root or with sudo available.
set -euo pipefail

packages=(texlive-latex-base texlive-latex-recommended poppler-utils texlive-luatex fonts-wqy-microhei)

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
lualatex --version | head -n 1
