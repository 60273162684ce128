"""Remuneration: tariffs, attribution, distribution and statements, in exact money.

Tariffs are data attached to licences; attribution turns the transparency log's training
and output declarations into exact shares over registered recordings; distribution carries
licence fees and revenue shares down to recordings, performers and their CMOs by the
largest-remainder rule, so every level sums to the minor unit; statements for performers,
CMOs and licensees are stored with their run and declared to the log.
"""

from sostenuto.remuneration._access import (
    RunView,
    get_run,
    get_statement,
    list_periods,
    list_statements,
    may_read,
    settle_claim,
    visible_summary,
)
from sostenuto.remuneration._attribution import (
    UNITS,
    AttributionMethod,
    AttributionTable,
    EvidenceAttribution,
    FirstOf,
    Share,
    TrainingUsageAttribution,
    default_attribution,
)
from sostenuto.remuneration._chart import sources_chart_svg
from sostenuto.remuneration._engine import (
    SOURCES,
    STATUSES,
    Band,
    Coverage,
    Distribution,
    LicenceTerms,
    RegistrySnapshot,
    Route,
    Unlicensed,
    distribute,
    unlicensed_usage,
)
from sostenuto.remuneration._finance import (
    FinanceTable,
    finance_table,
    format_amount,
    major_units,
    party_label,
    recording_titles,
    statement_csv_major,
    statement_filename,
    statement_pdf,
)
from sostenuto.remuneration._loader import LoggedEntry, load_usage, usage_from_entries
from sostenuto.remuneration._money import (
    allocate,
    allocate_segments,
    check_currency,
    format_minor,
    minor_exponent,
    parse_major,
    parse_percent_bp,
    rate_half_up,
)
from sostenuto.remuneration._period import Period, last_ended_quarter, parse_period
from sostenuto.remuneration._run import (
    RunResult,
    check_run,
    compute,
    declare_statements,
    run_period,
)
from sostenuto.remuneration._sources import money_by_source
from sostenuto.remuneration._statements import (
    PARTY_KINDS,
    Names,
    StatementDoc,
    build_statements,
    statement_csv,
    unlicensed_rows,
)
from sostenuto.remuneration._tariffs import (
    TariffSpec,
    add_tariff,
    list_tariffs,
    report_revenue,
    set_distribution_rule,
    tariff_json,
)
from sostenuto.remuneration._usage import (
    OutputUse,
    Resemblance,
    TrainingUse,
    Usage,
    UsageColumns,
)
from sostenuto.remuneration._usage_io import usage_from_document, usage_to_document
from sostenuto.remuneration._view import statement_view

__all__ = [
    "PARTY_KINDS",
    "SOURCES",
    "STATUSES",
    "UNITS",
    "AttributionMethod",
    "AttributionTable",
    "Band",
    "Coverage",
    "Distribution",
    "EvidenceAttribution",
    "FinanceTable",
    "FirstOf",
    "LicenceTerms",
    "LoggedEntry",
    "Names",
    "OutputUse",
    "Period",
    "RegistrySnapshot",
    "Resemblance",
    "Route",
    "RunResult",
    "RunView",
    "Share",
    "StatementDoc",
    "TariffSpec",
    "TrainingUsageAttribution",
    "TrainingUse",
    "Unlicensed",
    "Usage",
    "UsageColumns",
    "add_tariff",
    "allocate",
    "allocate_segments",
    "build_statements",
    "check_currency",
    "check_run",
    "compute",
    "declare_statements",
    "default_attribution",
    "distribute",
    "finance_table",
    "format_amount",
    "format_minor",
    "get_run",
    "get_statement",
    "last_ended_quarter",
    "list_periods",
    "list_statements",
    "list_tariffs",
    "load_usage",
    "major_units",
    "may_read",
    "minor_exponent",
    "money_by_source",
    "parse_major",
    "parse_percent_bp",
    "parse_period",
    "party_label",
    "rate_half_up",
    "recording_titles",
    "report_revenue",
    "run_period",
    "set_distribution_rule",
    "settle_claim",
    "sources_chart_svg",
    "statement_csv",
    "statement_csv_major",
    "statement_filename",
    "statement_pdf",
    "statement_view",
    "tariff_json",
    "unlicensed_rows",
    "unlicensed_usage",
    "usage_from_document",
    "usage_from_entries",
    "usage_to_document",
    "visible_summary",
]
