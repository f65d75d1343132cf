"""What the hardware runs natively; torch is imported when asked, never at import."""

from __future__ import annotations

import os

# oneDNN ISA caps (ONEDNN_MAX_CPU_ISA) that still include native bf16 matmuls
_BF16_ISAS = ("BF16", "AMX", "AVX10", "ALL", "DEFAULT")


def cpu_isa_capped() -> bool:
    """Whether the environment caps this process below AVX512-BF16: ``ATEN_CPU_CAPABILITY`` set to
    avx2 / default, or ``ONEDNN_MAX_CPU_ISA`` set to an ISA without bf16 (how an AVX2 machine is
    emulated on a newer one, e.g. by bench/cpu_speed.py)."""
    aten = os.environ.get("ATEN_CPU_CAPABILITY", "").strip().lower()
    if aten in ("default", "avx2", "zvector", "vsx"):
        return True
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    return bool(isa) and not any(k in isa for k in _BF16_ISAS)


def native_bf16(cuda: bool) -> bool:
    """Whether bf16 runs natively: an Ampere or newer GPU, a CPU with AVX512-BF16 or AMX (elsewhere
    emulated bf16 is several times slower than fp32). A CPU capped below that by the environment
    (:func:`cpu_isa_capped`) counts as without."""
    import torch

    if cuda:
        return bool(torch.cuda.is_bf16_supported())
    if cpu_isa_capped():
        return False
    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        fn = getattr(cpu, probe, None)
        try:
            if fn is not None and fn():
                return True
        except Exception:  # pragma: no cover - a probe this torch build cannot run
            continue
    return False


def cpu_kind() -> str:
    """The CPU's vector kind as this process sees it: 'AMX', 'AVX512-BF16', 'AVX512', 'AVX2' or what
    torch reports; an environment cap counts (an emulated AVX2 machine says 'AVX2')."""
    import torch

    cap = str(torch.backends.cpu.get_cpu_capability())
    if not cap.startswith("AVX512") or cpu_isa_capped():
        return cap
    cpu = getattr(torch, "cpu", None)
    for probe, name in (("_is_amx_tile_supported", "AMX"), ("_is_avx512_bf16_supported", "AVX512-BF16")):
        fn = getattr(cpu, probe, None)
        try:
            if fn is not None and fn():
                return name
        except Exception:  # pragma: no cover - a probe this torch build cannot run
            continue
    return cap
