#!/usr/bin/env bash
# Fetch the HLS headers the `--emit hls` tests compile against: ap_types/ and nnet_utils/ from
# the hls4ml wheel on PyPI (no dependencies installed). Usage: scripts/fetch_hls_headers.sh DIR
# leaves DIR/ap_types and DIR/nnet_utils; point LUTGEN_HLS_INCLUDE at DIR.
set -euo pipefail
dest="${1:?usage: $0 DIR}"
version="${HLS4ML_VERSION:-1.3.0}"
if [ -f "$dest/ap_types/ap_fixed.h" ] && [ -f "$dest/nnet_utils/nnet_activation.h" ]; then
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python -m pip download -q --no-deps "hls4ml==$version" -d "$tmp"
python - "$tmp" "$dest" <<'PY'
import pathlib, sys, zipfile
tmp, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(wheel,) = tmp.glob("hls4ml-*.whl")
prefix = "hls4ml/templates/vivado/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        rel = name[len(prefix):]
        if name.startswith(prefix) and rel.split("/")[0] in ("ap_types", "nnet_utils") \
                and not name.endswith("/"):
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(z.read(name))
PY
test -f "$dest/ap_types/ap_fixed.h" && test -f "$dest/nnet_utils/nnet_activation.h"
