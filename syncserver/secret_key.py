"""The installation's own SECRET_KEY, made once when none is configured."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def installation_secret_key(path: Path, *, fallback: str) -> str:
    """The key kept in `path`, created (random, readable by the owner only) if it does not exist.

    Every gunicorn worker reads settings at start, so the file is created atomically: written under a
    temporary name, then linked into place only if no other process did it first. `fallback` (the public
    development key, which production refuses) is returned where the file cannot be read or written.
    """
    try:
        existing = path.read_text().strip()
        if existing:
            return existing
    except FileNotFoundError:
        pass
    except OSError:
        return fallback
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another worker made it first: use theirs
        finally:
            temporary.unlink(missing_ok=True)
        return path.read_text().strip() or fallback
    except OSError:
        return fallback
