"""Server paths in API requests and pages: read only under the import roots, write only where the server chooses.

The command line is not bound by this: its operator may name any path the workers can read or
write. Web requests come from accounts, not operators, so a path they name must lie under one
of ``RGZ_IMPORT_ROOTS`` once symlinks and ``..`` are resolved; otherwise they upload files.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from core.errors import InvalidInput


def import_roots() -> list[Path]:
    return [Path(os.path.realpath(root)) for root in settings.RGZ_IMPORT_ROOTS]


def is_under_import_roots(path: str | Path) -> bool:
    """True when ``path``, with symlinks and ``..`` resolved, lies under a configured import root."""
    real = Path(os.path.realpath(path))
    return any(real == root or real.is_relative_to(root) for root in import_roots())


def import_path(text: str, *, field: str) -> str:
    """The resolved path of a server file named in a request, or a 400.

    The refusal reads the same whether the path exists or not, so it cannot be used to probe
    the server's folders.
    """
    if not isinstance(text, str) or not text.strip() or "\x00" in text:
        raise InvalidInput(f"{field}: a server path is required", field=field)
    if not is_under_import_roots(text):
        raise InvalidInput(
            f"{field}: server paths are accepted only under the configured import roots "
            "(RGZ_IMPORT_ROOTS); upload the file instead",
            field=field,
        )
    return os.path.realpath(text)


def export_path(*parts: str) -> Path:
    """A file under the export root (``RGZ_EXPORT_ROOT``) at a name the server chose; its folder is created."""
    target = Path(settings.RGZ_EXPORT_ROOT).joinpath(*parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target
