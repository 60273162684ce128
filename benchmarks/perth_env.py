"""Make the resemble-perth peer's environment for benchmarks/labelling.py (never used by tests).

    python benchmarks/perth_env.py      # -> ~/.cache/sostenuto/perth-venv

resemble-perth needs torch and torchaudio, and PyPI has no torchaudio for the CPU torch this
project installs (2.13). Perth uses only torchaudio's ``Spectrogram`` and
``InverseSpectrogram`` (thin wrappers over ``torch.stft`` / ``torch.istft``) and constructs a
``TimeStretch`` it never calls (its checkpoint holds one buffer of it); this writes a shim with
exactly those, so Perth runs on the project's torch. The venv sees the project's .venv
packages (torch, librosa, PyYAML) through a .pth file and gets resemble-perth itself (its
weights ship in the wheel).
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

VENV = Path.home() / ".cache" / "sostenuto" / "perth-venv"

SHIM = '''"""torchaudio shim for resemble-perth: Spectrogram and InverseSpectrogram as torchaudio
defines them (center=True, reflect padding, one-sided), over torch.stft / torch.istft."""

import torch
from torch import nn


class Spectrogram(nn.Module):
    def __init__(self, n_fft=400, win_length=None, hop_length=None, pad=0,
                 window_fn=torch.hann_window, power=2.0, normalized=False, wkwargs=None,
                 center=True, pad_mode="reflect", onesided=True):
        super().__init__()
        self.n_fft, self.power, self.normalized = n_fft, power, normalized
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.center, self.pad_mode, self.onesided = center, pad_mode, onesided
        window = window_fn(self.win_length, **(wkwargs or {}))
        self.register_buffer("window", window)

    def forward(self, waveform):
        shape = waveform.size()
        flat = waveform.reshape(-1, shape[-1])
        spec = torch.stft(flat, self.n_fft, self.hop_length, self.win_length, self.window,
                          self.center, self.pad_mode, False, self.onesided,
                          return_complex=True)
        spec = spec.reshape(shape[:-1] + spec.shape[-2:])
        if self.normalized:
            spec = spec / self.window.pow(2.0).sum().sqrt()
        if self.power is None:
            return spec
        return spec.abs().pow(self.power)


class InverseSpectrogram(nn.Module):
    def __init__(self, n_fft=400, win_length=None, hop_length=None, pad=0,
                 window_fn=torch.hann_window, normalized=False, wkwargs=None, center=True,
                 pad_mode="reflect", onesided=True):
        super().__init__()
        self.n_fft, self.normalized = n_fft, normalized
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.center, self.onesided = center, onesided
        window = window_fn(self.win_length, **(wkwargs or {}))
        self.register_buffer("window", window)

    def forward(self, spectrogram, length=None):
        if self.normalized:
            spectrogram = spectrogram * self.window.pow(2.0).sum().sqrt()
        shape = spectrogram.size()
        flat = spectrogram.reshape(-1, shape[-2], shape[-1])
        waveform = torch.istft(flat, self.n_fft, self.hop_length, self.win_length, self.window,
                               self.center, False, self.onesided, length,
                               return_complex=False)
        return waveform.reshape(shape[:-2] + waveform.shape[-1:])


class TimeStretch(nn.Module):
    def __init__(self, hop_length=None, n_freq=201, fixed_rate=None):
        super().__init__()
        hop_length = hop_length if hop_length is not None else (n_freq - 1)
        # Perth's checkpoint holds this buffer (as torchaudio defines it).
        advance = torch.linspace(0, 3.141592653589793 * hop_length, n_freq)[..., None]
        self.register_buffer("phase_advance", advance)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("the shim does not time-stretch; Perth never calls it")
'''


def main() -> None:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # After the venv's own packages: torch, librosa, PyYAML, setuptools come from .venv.
    (site / "sostenuto-main.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    shim = site / "torchaudio"
    shim.mkdir(exist_ok=True)
    (shim / "__init__.py").write_text('"""Shim: see transforms."""\n')
    (shim / "transforms.py").write_text(SHIM)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "resemble-perth==1.0.1"],
        check=True,
    )
    subprocess.run(
        [str(python), "-c", "import perth; assert perth.PerthImplicitWatermarker is not None"],
        check=True,
    )
    print(f"resemble-perth ready: {python}")


if __name__ == "__main__":
    main()
