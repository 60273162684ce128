"""label_output / resolve / inspect against the registry and the transparency log."""

from __future__ import annotations

from pathlib import Path

import pytest

from sostenuto.auth import OPERATOR, Principal
from sostenuto.errors import Forbidden, InvalidInput, NotFound, UnsupportedFormat
from sostenuto.label import (
    init_keys,
    inspect_path,
    inspect_upload,
    label_output,
    marks_of,
    resolve_watermark,
)
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.label import WatermarkMark
from sostenuto.storage.models.registry import AiModel, Licensee
from tests.label.conftest import copy


def _world(database: Database) -> tuple[int, int, int, int]:
    with database.transaction() as session:
        mine = Licensee(name="Aurora Audio Ltd", kind="developer", country="FR")
        rival = Licensee(name="Rival Sounds", kind="platform", country="DE")
        session.add_all([mine, rival])
        session.flush()
        model = AiModel(licensee_id=mine.id, name="Tessitura", version="2.1", purpose="music")
        rival_model = AiModel(licensee_id=rival.id, name="Copycat", version="1", purpose="x")
        session.add_all([model, rival_model])
        session.flush()
        return mine.id, model.id, rival.id, rival_model.id


@pytest.mark.audio
def test_label_output_declares_registers_and_resolves(
    database: Database, settings: Settings, format_files: dict[str, Path], tmp_path: Path
) -> None:
    init_keys(settings.keys_dir)
    licensee, model, rival, rival_model = _world(database)
    developer = Principal(name="dev", role="licensee", licensee_id=licensee)
    source = copy(format_files["mp3"], tmp_path)
    result, record = label_output(
        database,
        settings,
        developer,
        source,
        licensee_id=licensee,
        model_id=model,
        licence_ref="licence:3",
        reservations={"c2pa.ai_training": "notAllowed"},
    )
    assert record.log_entry_id is not None and len(record.log_entry_id) == 64
    assert record.model == "Tessitura 2.1" and record.licensee_name == "Aurora Audio Ltd"
    assert resolve_watermark(database, record.watermark_id) == record
    found = inspect_path(database, settings, result.path)
    assert found.manifest.trusted
    assert found.watermark is not None and found.watermark.watermark_id == record.watermark_id
    assert found.registered == record
    assert found.log_entry_id == record.log_entry_id
    assert found.metadata.fields["SOSTENUTO_LOG_ENTRY"] == record.log_entry_id
    assert any("is registered" in line for line in found.summary)
    # The same, from uploaded bytes.
    uploaded = inspect_upload(database, settings, Path(result.path).read_bytes(), "song.mp3")
    assert uploaded.registered == record
    assert [m.watermark_id for m in marks_of(database, developer, licensee)] == [
        record.watermark_id
    ]

    rival_dev = Principal(name="rival", role="licensee", licensee_id=rival)
    with pytest.raises(Forbidden):
        label_output(database, settings, rival_dev, source, licensee_id=licensee, model_id=model)
    with pytest.raises(Forbidden):
        marks_of(database, rival_dev, licensee)
    with pytest.raises(Forbidden):
        label_output(
            database,
            settings,
            Principal(name="a", role="auditor"),
            source,
            licensee_id=licensee,
            model_id=model,
        )
    with pytest.raises(InvalidInput, match="belongs to licensee"):
        label_output(
            database, settings, OPERATOR, source, licensee_id=licensee, model_id=rival_model
        )
    with pytest.raises(NotFound):
        label_output(database, settings, OPERATOR, source, licensee_id=999, model_id=model)
    with database.reader() as session:
        assert session.query(WatermarkMark).count() == 1  # refusals registered nothing


def test_unsupported_layer_is_refused_before_anything_is_declared(
    database: Database, settings: Settings, format_files: dict[str, Path], tmp_path: Path
) -> None:
    init_keys(settings.keys_dir)
    licensee, model, _, _ = _world(database)
    folder = tmp_path / "work"
    folder.mkdir()
    source = copy(format_files["ogg-opus"], folder)
    with pytest.raises(UnsupportedFormat, match="c2pa"):
        label_output(database, settings, OPERATOR, source, licensee_id=licensee, model_id=model)
    with database.reader() as session:
        assert session.query(WatermarkMark).count() == 0
    assert sorted(p.name for p in folder.iterdir()) == [source.name]


def test_inspect_upload_refuses_empty_and_unknown_bytes(
    sqlite_database: Database, settings: Settings
) -> None:
    with pytest.raises(InvalidInput):
        inspect_upload(sqlite_database, settings, b"", "x.wav")
    with pytest.raises(UnsupportedFormat):
        inspect_upload(sqlite_database, settings, b"hello world" * 100, "x.txt")
