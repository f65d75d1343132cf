"""How fast the light commands answer (target: < 2 s; they must not import torch or an SDK).

    python bench/cli_startup.py

Times `facttune plugins --json` and `facttune validate recipes/bio.toml` (best of 5 each) side by side
with a bare `python -c pass` and `python -c "import torch"` (what importing torch alone would cost).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def best(cmd: list[str], n: int = 5) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    py = sys.executable
    bare = best([py, "-c", "pass"])
    torch = best([py, "-c", "import torch"], 3)
    plugins = best([py, "-m", "facttune_core.cli", "plugins", "--json"])
    validate = best([py, "-m", "facttune_core.cli", "validate", "recipes/bio.toml"])
    print(f"python -c pass           {bare:6.2f} s")
    print(f"python -c 'import torch' {torch:6.2f} s")
    print(f"facttune plugins --json  {plugins:6.2f} s")
    print(f"facttune validate bio    {validate:6.2f} s")
    print(f"plugins_vs_target={plugins / 2.0:.2f} validate_vs_target={validate / 2.0:.2f} "
          f"plugins_vs_torch_import={plugins / torch:.2f}")


if __name__ == "__main__":
    main()
