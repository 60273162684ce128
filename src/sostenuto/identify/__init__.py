"""Audio identification: fingerprints, a persistent index, matching, corpus and output screening.

Fingerprints are triplets of spectral peaks on a log-frequency axis, hashed so that they
survive a change of speed or pitch (:func:`fingerprint_file`); the :class:`Index` keeps them
on disk in memory-mapped segments, and :class:`ShardedIndex` spreads a catalogue over
shards by track. :func:`search` reports every indexed recording inside a query with its
offsets in both files; :func:`screen_corpus` screens a training corpus against the registry
and the consent engine; :func:`check_output` screens a generated track;
:func:`register_recording_audio` fingerprints a registered recording;
:func:`calibrate_catalogue` measures the catalogue's own match threshold on unregistered
music, which :func:`catalogue_threshold` then gives as the default. See docs/identify.md.
"""

from sostenuto.identify._calibrate import (
    ActiveThreshold,
    Calibration,
    active_threshold,
    calibrate_catalogue,
    calibration_path,
    catalogue_threshold,
    load_calibration,
)
from sostenuto.identify._catalogue import (
    RegisteredAudio,
    catalogue_path,
    catalogue_stats,
    compact_catalogue,
    fingerprinted_recordings,
    index_files,
    open_catalogue,
    recording_key,
    recording_of,
    register_recording_audio,
    remove_from_catalogue,
    store_fingerprint_row,
    unregister_recording_audio,
)
from sostenuto.identify._corpus import FileResult, identify_file, list_corpus
from sostenuto.identify._fingerprint import (
    Fingerprint,
    fingerprint_file,
    fingerprint_samples,
    load_audio,
)
from sostenuto.identify._index import Index, IndexStats, TrackInfo
from sostenuto.identify._match import DEFAULT_THRESHOLD, Match, search
from sostenuto.identify._output import OutputReport, check_output
from sostenuto.identify._params import SAMPLE_RATE
from sostenuto.identify._report import load_report, report_body_html
from sostenuto.identify._screen import (
    ScreenReport,
    ScreenRequest,
    get_screen_report,
    list_screen_reports,
    screen_corpus,
    screen_id_of,
    screens_dir,
)
from sostenuto.identify._shard_pool import RayShardPool
from sostenuto.identify._shards import ShardedIndex, shard_of
from sostenuto.identify._uploads import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_FILES,
    UPLOAD_SUFFIXES,
    UploadJob,
    declare_upload,
    get_upload_job,
    start_upload_screening,
    upload_report,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_FILES",
    "SAMPLE_RATE",
    "UPLOAD_SUFFIXES",
    "ActiveThreshold",
    "Calibration",
    "FileResult",
    "Fingerprint",
    "Index",
    "IndexStats",
    "Match",
    "OutputReport",
    "RayShardPool",
    "RegisteredAudio",
    "ScreenReport",
    "ScreenRequest",
    "ShardedIndex",
    "TrackInfo",
    "UploadJob",
    "active_threshold",
    "calibrate_catalogue",
    "calibration_path",
    "catalogue_path",
    "catalogue_stats",
    "catalogue_threshold",
    "check_output",
    "compact_catalogue",
    "declare_upload",
    "fingerprint_file",
    "fingerprint_samples",
    "fingerprinted_recordings",
    "get_screen_report",
    "get_upload_job",
    "identify_file",
    "index_files",
    "list_corpus",
    "list_screen_reports",
    "load_audio",
    "load_calibration",
    "load_report",
    "open_catalogue",
    "recording_key",
    "recording_of",
    "register_recording_audio",
    "remove_from_catalogue",
    "report_body_html",
    "screen_corpus",
    "screen_id_of",
    "screens_dir",
    "search",
    "shard_of",
    "start_upload_screening",
    "store_fingerprint_row",
    "unregister_recording_audio",
    "upload_report",
]
