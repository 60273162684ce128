"""An output labelled without a declaration (``label.apply`` with ``declare`` false) gets its
log entry from the output declaration that names its watermark id: only the licensee's own,
and only the first."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import soundfile

from sostenuto.auth import Principal
from sostenuto.declarations import declare_batch
from sostenuto.label import init_keys, label_output, resolve_watermark
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.label.test_service import _world


def _output(path: Path) -> Path:
    t = np.arange(3 * 16_000) / 16_000
    soundfile.write(path, 0.3 * np.sin(2 * np.pi * 440 * t), 16_000, subtype="PCM_16")
    return path


def _declaration(licensee: int, model: int, watermark: str, sha: str) -> dict[str, object]:
    return {
        "licensee_id": licensee,
        "model_id": model,
        "output_sha256": sha * 64,
        "generated_on": dt.date.today().isoformat(),
        "watermark_id": watermark,
    }


def test_the_first_declaration_of_the_licensee_names_the_watermark_entry(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    init_keys(settings.keys_dir)
    licensee, model, rival, rival_model = _world(database)
    developer = Principal(name="dev", role="licensee", licensee_id=licensee)
    other = Principal(name="rival", role="licensee", licensee_id=rival)
    _, record = label_output(
        database,
        settings,
        developer,
        _output(tmp_path / "output.wav"),
        licensee_id=licensee,
        model_id=model,
        declare=False,
    )
    assert record.log_entry_id is None
    mark = f"{record.watermark_id:08x}"
    # Another licensee naming the id does not take it; a free-text id is ignored.
    declare_batch(
        database,
        settings,
        other,
        [
            ("output-declaration", _declaration(rival, rival_model, mark, "a")),
            ("output-declaration", _declaration(rival, rival_model, "not-ours", "b")),
        ],
    )
    assert resolve_watermark(database, record.watermark_id).log_entry_id is None  # type: ignore[union-attr]
    [first] = declare_batch(
        database,
        settings,
        developer,
        [("output-declaration", _declaration(licensee, model, mark, "c"))],
    )
    resolved = resolve_watermark(database, record.watermark_id)
    assert resolved is not None
    assert (resolved.log_entry_id, resolved.log_index) == (first.entry_id, first.index)
    # A later declaration naming the same id leaves the link where it is.
    declare_batch(
        database,
        settings,
        developer,
        [("output-declaration", _declaration(licensee, model, mark, "d"))],
    )
    assert resolve_watermark(database, record.watermark_id) == resolved
