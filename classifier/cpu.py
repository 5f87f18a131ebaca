"""What CPU this is, in the terms that decide which encoder kernels run and how fast.

The same export runs different onnxruntime kernels on different CPUs (AVX2, AVX-512, VNNI, AMX,
ARM dot products), and torch's bf16 path is only fast where the CPU has native bf16. Benchmarks
print this beside their figures, and the encoder logs it once at start-up, so a figure or a slow
start can be traced to the machine it came from. Reads ``/proc/cpuinfo`` on Linux; elsewhere it
falls back to :mod:`platform` and says the features are unknown.
"""

from __future__ import annotations

import functools
import os
import platform
from dataclasses import dataclass

# The flags that matter here, in the order they are printed.
FEATURES = (
    "avx2",
    "avx512f",
    "avx512bw",
    "avx512_vnni",
    "avx_vnni",
    "avx512_bf16",
    "amx_bf16",
    "amx_int8",
    "asimddp",
    "bf16",
)


@dataclass(frozen=True)
class CpuInfo:
    """The model name, architecture, logical cores and the :data:`FEATURES` this CPU has."""

    model: str
    machine: str
    cores: int
    flags: frozenset[str]
    known: bool  # False where the flags could not be read

    @property
    def features(self) -> list[str]:
        return [flag for flag in FEATURES if flag in self.flags]

    @property
    def native_bf16(self) -> bool:
        """bf16 matrix products in hardware (AVX-512 BF16 or AMX): torch-bf16 is fast only here."""
        return bool({"avx512_bf16", "amx_bf16"} & self.flags)

    @property
    def int8_kernel(self) -> str:
        """How onnxruntime's u8 x s8 product accumulates on this CPU (see classifier.encoders.quantise)."""
        if not self.known:
            return "unknown (CPU flags not readable)"
        if "amx_int8" in self.flags:
            return "AMX tiles, int32 accumulators"
        if "avx512_vnni" in self.flags or "avx_vnni" in self.flags:
            return "VNNI vpdpbusd, int32 accumulators"
        if self.machine in ("aarch64", "arm64"):
            return "ARM " + ("udot" if "asimddp" in self.flags else "umull/uadalp") + ", int32"
        if "avx512bw" in self.flags:
            return "AVX-512 vpmaddubsw, pairs summed in saturating int16"
        if "avx2" in self.flags:
            return "AVX2 vpmaddubsw, pairs summed in saturating int16"
        return "SSE, widened to int16 then int32 (slow)"

    @property
    def int8_slow(self) -> bool:
        """No SIMD integer dot product worth having: fp32 ONNX is likely as fast or faster."""
        return self.known and self.machine in ("x86_64", "AMD64") and "avx2" not in self.flags

    def line(self) -> str:
        """One line for benchmark output and logs."""
        features = ", ".join(self.features) if self.known else "features unknown"
        return f"{self.model} ({self.machine}, {self.cores} cores; {features or 'none of note'})"


@functools.cache
def cpu_info() -> CpuInfo:
    """This machine's CPU, read once per process."""
    machine = platform.machine()
    cores = os.cpu_count() or 1
    model, flags, known = platform.processor() or machine, set(), False
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "Model", "CPU part") and model in ("", machine):
                    model = value.strip()
                elif key in ("flags", "Features"):
                    flags.update(value.split())
                    known = True
                if known and model not in ("", machine):
                    break
    except OSError:
        pass
    return CpuInfo(model or machine, machine, cores, frozenset(flags), known)
