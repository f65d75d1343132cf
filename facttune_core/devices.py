"""What the hardware runs natively; torch is imported when asked, never at import."""

from __future__ import annotations


def native_bf16(cuda: bool) -> bool:
    """Whether bf16 runs natively: an Ampere or newer GPU, a CPU with AVX512-BF16 or AMX (elsewhere
    emulated bf16 is several times slower than fp32)."""
    import torch

    if cuda:
        return bool(torch.cuda.is_bf16_supported())
    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        fn = getattr(cpu, probe, None)
        try:
            if fn is not None and fn():
                return True
        except Exception:  # pragma: no cover - a probe this torch build cannot run
            continue
    return False
