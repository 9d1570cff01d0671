"""Which model bundles the user has trusted to run the Python expressions in their configs.

Trust is recorded per bundle folder together with a digest of its configs, so editing a trusted bundle's
configs withdraws the trust. The record lives in ``$MEDSEG_CONFIG_DIR`` (default ``~/.config/medseg``)
as ``trusted_models.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .bundle import ModelBundle


def _store() -> Path:
    base = os.environ.get("MEDSEG_CONFIG_DIR") or Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "medseg"
    return Path(base) / "trusted_models.json"


def configs_digest(bundle: ModelBundle) -> str:
    digest = hashlib.sha256()
    for path in sorted((bundle.path / "configs").rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(bundle.path).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _load() -> dict:
    try:
        data = json.loads(_store().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def is_trusted(bundle: ModelBundle) -> bool:
    """A bundle without expressions needs no trust; one with expressions only if the user trusted these configs."""
    if not bundle.needs_trust:
        return True
    return _load().get(str(bundle.path.resolve())) == configs_digest(bundle)


def trust(bundle: ModelBundle) -> None:
    records = _load()
    records[str(bundle.path.resolve())] = configs_digest(bundle)
    store = _store()
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = store.with_suffix(".tmp")
    tmp.write_text(json.dumps(records, indent=1), encoding="utf-8")
    os.replace(tmp, store)
