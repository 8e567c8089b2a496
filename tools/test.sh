#!/usr/bin/env bash
# Install what the tests need (package, test extras, a CJK font for PDF rendering) and run the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# fonts for the PDF renderings: a CJK font, HanaMin for rare Han (extension B+) and DejaVu for
# tone-marked pinyin (wqy-microhei draws ǎ ǒ ǔ as empty glyphs)
need=()
fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk" || need+=(fonts-wqy-microhei)
fc-list 2>/dev/null | grep -qi "hanamin" || need+=(fonts-hanazono)
fc-list 2>/dev/null | grep -qi "dejavusans" || need+=(fonts-dejavu-core)
# LibreOffice: the .doc/.wps reader, and a second PDF producer for the format tests
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
# Tesseract with its Simplified Chinese model: parse --ocr --ocr-engine tesseract (the default OCR
# engine, RapidOCR with its models inside the wheel, comes with the test extras: .[ocr] is part of .[test])
command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -q chi_sim \
  || need+=(tesseract-ocr tesseract-ocr-chi-sim)
# Chromium: the review report's test opens the page headless (screenshot, console errors, clicks)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ((${#need[@]})); then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fontconfig "${need[@]}" >/dev/null) \
    || echo "warning: could not install ${need[*]}; tests that need them are skipped or fail"
fi
python3 -m pip install -q -e ".[test]"
python3 -m pytest -q "$@"
