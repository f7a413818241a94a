#!/bin/sh
# The CRM renders quote PDFs with WeasyPrint, which needs Pango (through HarfBuzz and fontconfig); both it and the
# ERP's invoice PDFs (ReportLab) embed DejaVu Sans (PDF/A requires embedded fonts). Install Debian's packages when
# they are missing. Usage: sh tests/ensure_pango.sh   (needs root or sudo; a no-op when both are there)
set -e
if ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' && ldconfig -p | grep -q 'libharfbuzz-subset.so.0' && [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
  fonts-dejavu-core >/dev/null
ldconfig -p | grep -q 'libpangoft2-1.0.so.0'
