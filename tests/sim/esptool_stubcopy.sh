#!/bin/bash
# tests/sim/esptool_stubcopy.sh SRC_PYDIR DEST — copy the unpacked esptool package
# (SRC_PYDIR = .../usr/lib/python3/dist-packages) to DEST and add a stand-in ESP32
# flasher stub description (stub_flasher_32.json), which Debian's package lacks
# (DESIGN: "tests may place a stand-in stub description of their own").
# The stand-in is not Espressif's stub: its "code" is filler the simulated ESP32
# (tests/sim/ttyrfc_sim) accepts like any RAM image; the simulator then speaks the
# stub protocol. Sizes are like the real stub's data segment, but the text is
# smaller (4 KiB) to keep uploads quick under TCG. Prints DEST.
set -euo pipefail
src=$1 dest=$2
[ -d "$src/esptool" ] || { echo "esptool_stubcopy: no esptool package in $src" >&2; exit 1; }
rm -rf "$dest"; mkdir -p "$dest"
cp -a "$src/esptool" "$dest/"
/usr/bin/python3 - "$dest/esptool/targets/stub_flasher/stub_flasher_32.json" <<'PY'
import base64, json, sys
text = (b"ttyrfc-sim stand-in ESP32 flasher stub, not Espressif code. " * 70)[:4096]
data = (b"ttyrfc-sim stub data " * 20)[:384]
json.dump({"entry": 0x400BE5A0, "text": base64.b64encode(text).decode(), "text_start": 0x400BE000,
           "data": base64.b64encode(data).decode(), "data_start": 0x3FFDEBA8,
           "bss_start": 0x3FFCEBB0}, open(sys.argv[1], "w"))
PY
echo "$dest"
