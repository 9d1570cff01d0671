"""Where inference runs and how it is cut up, chosen from the memory that is free.

CUDA (with mixed precision) when present, else Apple's MPS, else the CPU. For sliding-window inference the
windows per batch and the device that holds the stitching buffer (the full-size output) follow from the free
memory, so a large volume falls back to smaller batches and stitching on the CPU instead of running out of
memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.memory import available_memory
from .bundle import ModelError

# Rough inference memory per window voxel (activations of a 3-D U-Net-sized network, float32).
ACTIVATION_BYTES_PER_VOXEL = 600
GPU_BUFFER_FRACTION = 0.35  # at most this share of free GPU memory goes to the stitching buffer


@dataclass(frozen=True)
class InferencePlan:
    device: str  # where the network runs: "cuda", "mps" or "cpu"
    stitch_device: str  # where the full-size output and count map live
    sw_batch_size: int
    overlap: float
    amp: bool  # float16 autocast (CUDA only)

    def fallback(self) -> "InferencePlan | None":
        """The next, more frugal plan after an out-of-memory error (None: nothing left to try)."""
        if self.device != "cpu" and (self.sw_batch_size > 1 or self.stitch_device != "cpu"):
            return InferencePlan(self.device, "cpu", 1, self.overlap, self.amp)
        if self.device != "cpu":
            return InferencePlan("cpu", "cpu", 1, self.overlap, False)
        if self.sw_batch_size > 1:
            return InferencePlan("cpu", "cpu", 1, self.overlap, False)
        return None


def pick_device(requested: str = "auto") -> str:
    import torch

    if requested not in ("auto", "cpu", "cuda", "mps"):
        raise ModelError(f"device {requested} is not one of auto, cpu, cuda, mps.")
    if requested == "cuda" and not torch.cuda.is_available():
        raise ModelError("--device cuda was asked for but no CUDA GPU is available.")
    if requested == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ModelError("--device mps was asked for but Apple's MPS is not available.")
    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def free_device_memory(device: str) -> int:
    if device == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info()
        return int(free)
    return available_memory()


def plan_inference(device: str, grid_voxels: int, roi_voxels: int, out_channels: int, overlap: float,
                   bundle_batch: int = 4, free_bytes: int | None = None) -> InferencePlan:
    """Batch size and stitching device for ``grid_voxels`` of output in windows of ``roi_voxels``."""
    free = free_device_memory(device) if free_bytes is None else int(free_bytes)
    amp = device == "cuda"
    buffer = (out_channels + 1) * grid_voxels * 4  # output + count map, float32
    per_window = roi_voxels * ACTIVATION_BYTES_PER_VOXEL // (2 if amp else 1)
    if device == "cpu":
        if free and buffer + per_window > free:
            raise ModelError(f"inference needs {buffer / 1e9:.1f} GB for its output but only "
                             f"{free / 1e9:.1f} GB of memory is free.")
        stitch = "cpu"
        room = free - buffer if free else per_window * bundle_batch
    else:
        stitch = device if free and buffer <= free * GPU_BUFFER_FRACTION else "cpu"
        room = free - (buffer if stitch == device else 0)
    batch = max(1, min(int(bundle_batch), int(room * 0.5 // max(per_window, 1))))
    return InferencePlan(device, stitch, batch, float(overlap), amp)


def is_out_of_memory(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
