"""The registry: CMOs, agreements, performers, mandates, recordings, licensees and licences.

Every service takes a SQLAlchemy session and the calling :class:`~sostenuto.auth.Principal`,
checks the caller's role, validates its input (raising :class:`~sostenuto.errors.InvalidInput`
that names the field) and writes an audit event beside each change, in the caller's
transaction. :func:`import_catalogue` takes the database instead: it commits chunk by chunk.
"""

from sostenuto.registry._audio import add_recording_with_audio, attach_audio
from sostenuto.registry._audit_view import list_audit, page_audit
from sostenuto.registry._cmos import add_agreement, add_cmo, list_agreements, list_cmos
from sostenuto.registry._common import resolve_cmo, resolve_licensee, resolve_recording
from sostenuto.registry._counts import count_members, count_recordings
from sostenuto.registry._import import FORMATS, ImportReport, import_catalogue, write_row_errors
from sostenuto.registry._licensing import (
    add_licensee,
    add_model,
    grant_licence,
    list_licences,
    list_licensees,
    list_models,
    suspend_licence,
)
from sostenuto.registry._performers import (
    add_mandate,
    add_performer,
    confirm_mandate,
    end_mandate,
    list_mandates,
    show_performer,
)
from sostenuto.registry._readers import CSV_COLUMNS, RowError
from sostenuto.registry._recordings import (
    NewContribution,
    add_contribution,
    add_recording,
    show_recording,
)
from sostenuto.registry._records import (
    AgreementInfo,
    AuditEntry,
    CmoInfo,
    ContributionInfo,
    LicenceInfo,
    LicenseeInfo,
    MandateInfo,
    ModelInfo,
    PerformerDetail,
    PerformerInfo,
    RecordingBasics,
    RecordingInfo,
)
from sostenuto.registry._search import search_performers, search_recordings
from sostenuto.registry._validate import (
    ISRC_SPECIAL_PREFIXES,
    check_sha256,
    file_sha256,
    format_isrc,
    isni_check_character,
    normalise_ipn,
    normalise_isni,
    normalise_isrc,
)

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "ISRC_SPECIAL_PREFIXES",
    "AgreementInfo",
    "AuditEntry",
    "CmoInfo",
    "ContributionInfo",
    "ImportReport",
    "LicenceInfo",
    "LicenseeInfo",
    "MandateInfo",
    "ModelInfo",
    "NewContribution",
    "PerformerDetail",
    "PerformerInfo",
    "RecordingBasics",
    "RecordingInfo",
    "RowError",
    "add_agreement",
    "add_cmo",
    "add_contribution",
    "add_licensee",
    "add_mandate",
    "add_model",
    "add_performer",
    "add_recording",
    "add_recording_with_audio",
    "attach_audio",
    "check_sha256",
    "confirm_mandate",
    "count_members",
    "count_recordings",
    "end_mandate",
    "file_sha256",
    "format_isrc",
    "grant_licence",
    "import_catalogue",
    "isni_check_character",
    "list_agreements",
    "list_audit",
    "list_cmos",
    "list_licences",
    "list_licensees",
    "list_mandates",
    "list_models",
    "normalise_ipn",
    "normalise_isni",
    "normalise_isrc",
    "page_audit",
    "resolve_cmo",
    "resolve_licensee",
    "resolve_recording",
    "search_performers",
    "search_recordings",
    "show_performer",
    "show_recording",
    "suspend_licence",
    "write_row_errors",
]
