#!/usr/bin/env bash
# Create/refresh bench/.venv-peers with DeepCTR-Torch and FuxiCTR on a CPU torch 2.13.0.
# Idempotent: re-running only installs what is missing.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/../../.venv-peers"
PYTHON="${PYTHON:-python3}"

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check -q)

# torch first and pinned in every later call, so no resolver step can swap it for another build.
"${PIP[@]}" torch==2.13.0
# deepctr-torch 0.3.0 needs torch>=2.4, tqdm, scikit-learn; fuxictr 2.3.10 needs pandas, polars,
# pyarrow, h5py, pyyaml, ray[data]>=2.52, pydantic. Neither pins torch or tensorflow.
# polars<2: FuxiCTR's reader passes scan_csv(dtypes=...), removed in polars 2.
"${PIP[@]}" torch==2.13.0 deepctr-torch==0.3.0 fuxictr==2.3.10 'polars<2' pandas scikit-learn requests

"$VENV/bin/python" - <<'PY'
import torch, deepctr_torch, fuxictr, polars, pandas, sklearn, ray
assert torch.__version__.startswith("2.13.0"), torch.__version__
print("torch", torch.__version__, "| deepctr-torch", deepctr_torch.__version__, "| fuxictr",
      fuxictr.__version__, "| polars", polars.__version__, "| pandas", pandas.__version__,
      "| scikit-learn", sklearn.__version__, "| ray", ray.__version__)
PY
