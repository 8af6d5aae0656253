"""Builds bprop's optional compiled training step (bprop/_kernel.c); everything else is in
pyproject.toml.  Without a working C compiler the build is skipped and bprop trains with its
NumPy engines."""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class BuildKernel(build_ext):
    """Compiler options by compiler: vectorised loops ("omp simd") without -ffast-math."""

    def build_extensions(self) -> None:
        unix = self.compiler.compiler_type == "unix"
        for ext in self.extensions:
            ext.extra_compile_args = ["-O3", "-fopenmp-simd"] if unix else []
        super().build_extensions()


setup(
    ext_modules=[
        Extension(
            "bprop._kernel",
            sources=["bprop/_kernel.c"],
            depends=["bprop/_kernel_types.h", "bprop/_kernel_step.h"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": BuildKernel},
)
