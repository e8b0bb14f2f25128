"""Build and install ``lie_learn`` (a dependency of ``escnn``) against the virtualenv's numpy 2.

Why: ``escnn`` imports ``lie_learn`` when it is imported (``escnn.group.groups.so3_utils``), and
``lie_learn``'s own import loads its Cython extensions. The only release with extensions, 0.0.2,
ships them compiled against numpy 1.x ("numpy.core.multiarray failed to import" under numpy 2)
and declares ``numpy<2``; the 0.0.1.post1 source release has no extension sources at all. The
0.0.2 wheel does carry the ``.pyx`` sources, so this script:

1. downloads the lie_learn 0.0.2 wheel with pip (the manylinux cp311 one; only its sources and
   data files are used, so it serves any Python and platform),
2. drops the compiled ``.so``/``.c`` files, replaces the names numpy 2 and scipy 1.17 removed
   (``np.int``, ``np.int_t``, ``numpy.lib.index_tricks``, ``scipy.special.sph_harm``: see
   ``PATCHES``), writes a small setuptools project that re-compiles
   the four ``.pyx`` modules with Cython against the numpy of this virtualenv (Cython and
   setuptools are build-only dependencies, in pip's isolated build environment),
3. installs the result with ``--no-deps`` (its metadata declares no numpy pin).

Idempotent: does nothing when ``lie_learn``'s extensions already import. Run it with the
virtualenv's Python: ``.venv/bin/python tools/build_lie_learn.py`` (``make install`` does).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

VERSION = "0.0.2"
# The wheel to take the sources from: any wheel of 0.0.2 has the same .pyx and .py files.
WHEEL_PLATFORM = "manylinux2014_x86_64"
WHEEL_PYTHON = "3.11"
EXTENSIONS = {
    "lie_learn.groups.SO3": "lie_learn/groups/SO3.pyx",
    "lie_learn.spaces.spherical_quadrature": "lie_learn/spaces/spherical_quadrature.pyx",
    "lie_learn.representations.SO3.irrep_bases": "lie_learn/representations/SO3/irrep_bases.pyx",
    "lie_learn.representations.SO3.pinchon_hoggan.pinchon_hoggan": (
        "lie_learn/representations/SO3/pinchon_hoggan/pinchon_hoggan.pyx"
    ),
}

# numpy 2 removed the ``np.int`` alias and numpy's Cython declarations no longer have ``int_t``;
# both meant the C long, 64 bits on the platforms the wheel was built for.
PATCHES = {
    "lie_learn/representations/SO3/pinchon_hoggan/pinchon_hoggan.pyx": [
        ("INT_TYPE = np.int\n", "INT_TYPE = np.int64\n"),
        ("ctypedef np.int_t INT_TYPE_t", "ctypedef np.int64_t INT_TYPE_t"),
    ],
    "lie_learn/spectral/SO3FFT_Naive.py": [("dtype=np.int)", "dtype=np.int64)")],
    "lie_learn/broadcasting.py": [("numpy.lib.index_tricks import", "numpy.lib.stride_tricks import")],
    # scipy 1.17 removed sph_harm(m, n, azimuth, polar) for sph_harm_y(n, m, polar, azimuth)
    "lie_learn/representations/SO3/spherical_harmonics.py": [
        (
            "from scipy.special import sph_harm, lpmv\n",
            "from scipy.special import lpmv\n"
            "try:\n"
            "    from scipy.special import sph_harm\n"
            "except ImportError:  # scipy >= 1.17\n"
            "    from scipy.special import sph_harm_y\n\n"
            "    def sph_harm(m, n, theta, phi):\n"
            "        return sph_harm_y(n, m, phi, theta)\n",
        )
    ],
}

SETUP_PY = """\
import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

EXTENSIONS = {extensions!r}
setup(
    name="lie_learn",
    version="{version}+numpy2",
    description="lie_learn {version}, Cython extensions rebuilt against numpy 2 (tools/build_lie_learn.py)",
    packages=find_packages(),
    package_data={{"": ["*.npy", "*.pyx"]}},
    ext_modules=cythonize(
        [Extension(name, [path], include_dirs=[numpy.get_include()]) for name, path in EXTENSIONS.items()],
        compiler_directives={{"language_level": "2"}},  # Python 2 sources (print statements), as 0.0.2 was built
    ),
    zip_safe=False,
)
"""

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68", "wheel", "Cython>=3.0,<4", "numpy=={numpy}"]
build-backend = "setuptools.build_meta"
"""


def _run(cmd: list[str]) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def extensions_import() -> bool:
    """True when lie_learn and its compiled modules import under this interpreter."""
    probe = "; ".join(f"import {name}" for name in EXTENSIONS)
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


def build(workdir: Path) -> None:
    import numpy

    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            WHEEL_PYTHON,
            "--platform",
            WHEEL_PLATFORM,
            f"lie_learn=={VERSION}",
            "-d",
            str(workdir / "dl"),
        ]
    )
    wheels = sorted((workdir / "dl").glob(f"lie_learn-{VERSION}-*.whl"))
    if not wheels:
        raise SystemExit(f"pip did not download a lie_learn {VERSION} wheel into {workdir / 'dl'}")
    src = workdir / "src"
    with zipfile.ZipFile(wheels[0]) as wheel:
        members = [m for m in wheel.namelist() if m.startswith("lie_learn/")]
        wheel.extractall(src, members)
    for path in EXTENSIONS.values():
        if not (src / path).is_file():
            raise SystemExit(f"{wheels[0].name} has no {path}: cannot rebuild lie_learn")
    for path, edits in PATCHES.items():
        text = (src / path).read_text()
        for old, new in edits:
            if old not in text:
                raise SystemExit(f"{path} of {wheels[0].name} has no {old.strip()!r}: the patch needs updating")
            text = text.replace(old, new)
        (src / path).write_text(text)
    for compiled in [*src.rglob("*.so"), *src.rglob("*.pyd"), *src.rglob("*.c")]:
        compiled.unlink()
    (src / "setup.py").write_text(SETUP_PY.format(extensions=EXTENSIONS, version=VERSION))
    (src / "pyproject.toml").write_text(PYPROJECT.format(numpy=numpy.__version__))
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(src)])


def main() -> int:
    if extensions_import() and "--force" not in sys.argv[1:]:
        print("lie_learn: compiled extensions already import, nothing to do")
        return 0
    with tempfile.TemporaryDirectory(prefix="lie_learn-build-") as tmp:
        build(Path(tmp))
    if not extensions_import():
        print("lie_learn was installed but its extensions still do not import", file=sys.stderr)
        return 1
    print("lie_learn: extensions rebuilt against numpy and installed")
    return 0


if __name__ == "__main__":
    shutil.which("cc") or print("warning: no C compiler (cc) on PATH; the build will fail", file=sys.stderr)
    sys.exit(main())
