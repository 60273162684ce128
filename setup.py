"""The optional in-process decoder, ``sostenuto.audio._avdecode``; metadata is in pyproject.toml.

The extension links the system's FFmpeg libraries (Debian: libavformat-dev libavcodec-dev
libswresample-dev libavutil-dev pkg-config). Without them, or if it fails to compile, the
package installs without it and decodes through the ffmpeg command line instead.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

FFMPEG_LIBRARIES = ["libavformat", "libavcodec", "libswresample", "libavutil"]


def warn(message: str) -> None:
    print(f"WARNING: {message}; Sostenuto will decode through the ffmpeg CLI", file=sys.stderr)


def pkg_config_flags() -> list[str] | None:
    """Compiler and linker flags for the FFmpeg libraries, or None when they are not there."""
    if shutil.which("pkg-config") is None:
        warn("pkg-config is missing, so the in-process decoder is not built")
        return None
    result = subprocess.run(
        ["pkg-config", "--cflags", "--libs", *FFMPEG_LIBRARIES],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        warn(f"FFmpeg development files not found ({result.stderr.strip()})")
        return None
    return result.stdout.split()


BUILD_ERRORS = (CCompilerError, ExecError, PlatformError, OSError)


class OptionalBuildExt(build_ext):
    """Build extensions when possible; a failure is a warning, not a failed install.

    An extension that failed is dropped from ``self.extensions``, so that the steps after the
    build (copying in place for editable installs, listing the outputs) do not look for it.
    """

    def run(self) -> None:
        try:
            super().run()
        except BUILD_ERRORS as error:  # e.g. no C compiler at all
            warn(f"the in-process decoder was not built ({error})")
            self.extensions = []

    def build_extensions(self) -> None:
        built = []
        for ext in self.extensions:
            try:
                self.build_extension(ext)
            except BUILD_ERRORS as error:
                warn(f"{ext.name} was not built ({error})")
            else:
                built.append(ext)
        self.extensions = built


def extensions() -> list[Extension]:
    flags = pkg_config_flags()
    if flags is None:
        return []
    return [
        Extension(
            "sostenuto.audio._avdecode",
            sources=["src/sostenuto/audio/_avdecode.c"],
            include_dirs=[flag[2:] for flag in flags if flag.startswith("-I")],
            library_dirs=[flag[2:] for flag in flags if flag.startswith("-L")],
            libraries=[flag[2:] for flag in flags if flag.startswith("-l")],
            # The stereo mixdown must round as libswresample does: no fused multiply-add.
            extra_compile_args=["-Wall", "-ffp-contract=off"],
        )
    ]


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
