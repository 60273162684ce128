"""AI-content labelling: metadata tags, a signed C2PA manifest and a watermark; inspect files.

``label_file`` writes the layers into a copy of a file; ``label_output`` does it for a
licensee's output, declared in the transparency log with a registered watermark id;
``inspect_file`` / ``inspect_path`` / ``inspect_upload`` read every layer back and say in
plain words what they show. ``init_keys`` / ``show_keys`` manage the C2PA signing chain.
"""

from sostenuto.label._c2pa import manifest_definition, read_manifest, require_valid, sign_file
from sostenuto.label._files import (
    check_layers,
    default_output,
    detect_watermark,
    inspect_file,
    label_file,
)
from sostenuto.label._formats import FORMATS, c2pa_mime, detect_format, supports
from sostenuto.label._kept import (
    Declaration,
    PublicRecord,
    check_sha256,
    inspect_and_keep,
    keep_inspection,
    kept_inspection,
    public_record,
)
from sostenuto.label._keys import (
    KeyInfo,
    SigningKeys,
    init_keys,
    issue_chain,
    load_keys,
    load_trust_anchor,
    show_keys,
)
from sostenuto.label._metadata import read_metadata, write_metadata
from sostenuto.label._model import (
    IPTC_PREFIX,
    LAYERS,
    SOURCE_TYPES,
    TRAINING_MINING_KEYS,
    Inspection,
    Label,
    LabelResult,
    ManifestFinding,
    MarkRecord,
    MetadataFinding,
    WatermarkFinding,
    parse_source_type,
)
from sostenuto.label._service import (
    inspect_path,
    inspect_upload,
    label_output,
    label_upload,
    marks_of,
    resolve_watermark,
)
from sostenuto.label._watermark import Detection, EmbedReport, detect, embed

__all__ = [
    "FORMATS",
    "IPTC_PREFIX",
    "LAYERS",
    "SOURCE_TYPES",
    "TRAINING_MINING_KEYS",
    "Declaration",
    "Detection",
    "EmbedReport",
    "Inspection",
    "KeyInfo",
    "Label",
    "LabelResult",
    "ManifestFinding",
    "MarkRecord",
    "MetadataFinding",
    "PublicRecord",
    "SigningKeys",
    "WatermarkFinding",
    "c2pa_mime",
    "check_layers",
    "check_sha256",
    "default_output",
    "detect",
    "detect_format",
    "detect_watermark",
    "embed",
    "init_keys",
    "inspect_and_keep",
    "inspect_file",
    "inspect_path",
    "inspect_upload",
    "issue_chain",
    "keep_inspection",
    "kept_inspection",
    "label_file",
    "label_output",
    "label_upload",
    "load_keys",
    "load_trust_anchor",
    "manifest_definition",
    "marks_of",
    "parse_source_type",
    "public_record",
    "read_manifest",
    "read_metadata",
    "require_valid",
    "resolve_watermark",
    "show_keys",
    "sign_file",
    "supports",
    "write_metadata",
]
