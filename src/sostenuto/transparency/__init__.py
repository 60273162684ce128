"""Transparency log: an append-only RFC 9162 Merkle log of training and output declarations.

Entries are canonical JSON (RFC 8785) of six versioned types; the tree is stored as C2SP
tlog-tiles; each appended batch gets one Ed25519 checkpoint in the C2SP signed-note format.
Anyone holding the verifier key can check receipts (also as C2SP tlog-proofs) and consistency
offline, and a witness raises an alarm on a split view; the log speaks C2SP tlog-witness both
ways (it answers ``add-checkpoint`` for the logs it witnesses and submits its own).
Training-content summaries (EU AI Office template, C(2025) 8311) are filled from the log.

The log knows nothing of consent: entries that cite consent decisions (dataset manifests)
are declared through ``sostenuto.declarations``, which checks the decisions with the consent
service and then appends them here (``prepare_batch``, ``append_prepared``).
"""

from sostenuto.transparency._cosign import (
    Cosigner,
    CosignerKey,
    cosign,
    require_cosignatures,
    verify_cosignature,
)
from sostenuto.transparency._cosignatures import add_cosignatures
from sostenuto.transparency._declare import (
    PreparedBatch,
    Receipt,
    append_prepared,
    declare,
    declare_batch,
    prepare_batch,
)
from sostenuto.transparency._entries import ENTRY_TYPES, SCHEMA_VERSION, SCHEMAS
from sostenuto.transparency._keys import (
    default_origin,
    log_signer,
    verifier_key,
    witness_cosigner,
)
from sostenuto.transparency._listing import EntryListing, list_entries
from sostenuto.transparency._lookup import (
    LogSearch,
    entry_by_id,
    output_declarations_of,
    recent_entries,
    search_log,
)
from sostenuto.transparency._merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    memory_nodes,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from sostenuto.transparency._note import (
    Checkpoint,
    Signer,
    Verifier,
    open_note,
    sign_note,
    verify_checkpoint,
)
from sostenuto.transparency._pdf import summary_pdf
from sostenuto.transparency._receipt_check import (
    ProvenEntry,
    ReceiptCheck,
    Step,
    check_receipt,
    parse_receipt,
    proven_entry,
    signers,
)
from sostenuto.transparency._receipts import (
    VerifiedEntry,
    checkpoint,
    consistency_bundle,
    inclusion_bundle,
    verify_consistency_bundle,
    verify_receipt,
)
from sostenuto.transparency._references import Citation
from sostenuto.transparency._store import (
    LeafInput,
    SignedCheckpoint,
    prove_consistency,
    prove_inclusion,
    read_entries,
    read_tile,
    root_at,
)
from sostenuto.transparency._summary import (
    DecisionFacts,
    DecisionLookup,
    audio_size_band,
    models_with_runs,
    training_summary,
)
from sostenuto.transparency._tiles import tile_path, tiles_for_size
from sostenuto.transparency._tlogproof import tlog_proof, verify_tlog_proof
from sostenuto.transparency._witness import (
    SplitView,
    WitnessReport,
    mirror,
    submit_cosignature,
    witness,
)
from sostenuto.transparency._witness_service import OldSizeMismatch, add_checkpoint
from sostenuto.transparency._witness_submit import submit_to_witnesses

__all__ = [
    "EMPTY_ROOT",
    "ENTRY_TYPES",
    "SCHEMAS",
    "SCHEMA_VERSION",
    "Checkpoint",
    "Citation",
    "Cosigner",
    "CosignerKey",
    "DecisionFacts",
    "DecisionLookup",
    "EntryListing",
    "LeafInput",
    "LogSearch",
    "OldSizeMismatch",
    "PreparedBatch",
    "ProvenEntry",
    "Receipt",
    "ReceiptCheck",
    "SignedCheckpoint",
    "Signer",
    "SplitView",
    "Step",
    "VerifiedEntry",
    "Verifier",
    "WitnessReport",
    "add_checkpoint",
    "add_cosignatures",
    "append_prepared",
    "audio_size_band",
    "check_receipt",
    "checkpoint",
    "consistency_bundle",
    "consistency_proof",
    "cosign",
    "declare",
    "declare_batch",
    "default_origin",
    "entry_by_id",
    "inclusion_bundle",
    "inclusion_proof",
    "leaf_hash",
    "list_entries",
    "log_signer",
    "memory_nodes",
    "mirror",
    "models_with_runs",
    "node_hash",
    "open_note",
    "output_declarations_of",
    "parse_receipt",
    "prepare_batch",
    "prove_consistency",
    "prove_inclusion",
    "proven_entry",
    "read_entries",
    "read_tile",
    "recent_entries",
    "require_cosignatures",
    "root_at",
    "root_hash",
    "search_log",
    "sign_note",
    "signers",
    "submit_cosignature",
    "submit_to_witnesses",
    "summary_pdf",
    "tile_path",
    "tiles_for_size",
    "tlog_proof",
    "training_summary",
    "verifier_key",
    "verify_checkpoint",
    "verify_consistency",
    "verify_consistency_bundle",
    "verify_cosignature",
    "verify_inclusion",
    "verify_receipt",
    "verify_tlog_proof",
    "witness",
    "witness_cosigner",
]
