"""Builds bprop's optional compiled training step (bprop/_kernel.c); everything else is in
pyproject.toml.  Without a working C compiler the build is skipped and bprop trains with its
NumPy engines."""

import platform
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, CompileError, ExecError, LinkError


class BuildKernel(build_ext):
    """Compiler options by compiler: vectorised loops ("omp simd") without -ffast-math; on
    x86-64 glibc, vectorised expf from glibc's libmvec when it links (else without)."""

    def build_extensions(self) -> None:
        unix = self.compiler.compiler_type == "unix"
        for ext in self.extensions:
            ext.extra_compile_args = ["-O3", "-fopenmp-simd"] if unix else []
        super().build_extensions()

    def build_extension(self, ext: Extension) -> None:
        glibc_x86 = platform.machine() in ("x86_64", "AMD64") and platform.libc_ver()[0] == "glibc"
        if self.compiler.compiler_type == "unix" and glibc_x86:
            ext.define_macros, ext.libraries = [("BPROP_LIBMVEC", "1")], ["mvec"]
            try:
                super().build_extension(ext)
                return
            except (CCompilerError, CompileError, ExecError, LinkError):
                self.warn("building bprop._kernel without glibc's libmvec")
                ext.define_macros, ext.libraries = [], []
        try:
            super().build_extension(ext)
        except (CCompilerError, CompileError, ExecError, LinkError, OSError) as e:
            # setuptools reports a failed optional extension only in the verbose log; say it
            # where a plain `python setup.py`/`pip install -v`/build log shows it, then let
            # setuptools skip the extension.
            print(MISSING_KERNEL.format(error=e), file=sys.stderr, flush=True)
            raise


MISSING_KERNEL = """
WARNING: bprop's compiled training engine (bprop._kernel) was NOT built: {error}
WARNING: bprop will train with its NumPy engines (correct, slower for small networks).
WARNING: install a C compiler (e.g. gcc) and reinstall bprop, or install bprop's wheel.
"""


setup(
    ext_modules=[
        Extension(
            "bprop._kernel",
            sources=["bprop/_kernel.c"],
            depends=["bprop/_kernel_types.h", "bprop/_kernel_step.h", "bprop/_kernel_sparse.h"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": BuildKernel},
)
