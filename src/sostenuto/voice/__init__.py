"""Voice protection: performers' voiceprints, enrolment, and screening of audio for them.

A CMO enrols a performer's voice from reference clips (:func:`enrol_voice`); the voiceprint
is a GE2E speaker embedding (resemblyzer, CPU, weights inside its wheel) plus MFCC statistics,
stored per model version; every clip is checked in one pass and one report lists them all.
:func:`screen_file` finds speech with Silero VAD, scores every segment against every enrolled
voice (the two cosines fused, normalised against the cohort of other enrolled voices, searched
over pitch shifts), smooths the decisions in time with a threshold calibrated to a
false-match rate, scores each continuous stretch once as a whole against a threshold for its
length, and checks each matched performer's ``voice-clone`` consent for the
licensee, territory and date.
torch and resemblyzer are optional (the ``voice`` extra) and imported only when used.
"""

from sostenuto.voice._alerts import UnauthorisedVoice, unauthorised_voices
from sostenuto.voice._calibration import Calibration, calibration_for, threshold_for_rate
from sostenuto.voice._embed import EMPHASES, Emphasis
from sostenuto.voice._enrol import Clip, check_clips, enrol_voice, enrol_with_report
from sostenuto.voice._index import Hit, VoiceIndex
from sostenuto.voice._model import SpeakerModel, load_model
from sostenuto.voice._screen import (
    declare_unauthorised,
    get_screening,
    list_screenings,
    screen_file,
)
from sostenuto.voice._status import voiceprint_status
from sostenuto.voice._store import list_voiceprints
from sostenuto.voice._timeline import timeline_svg
from sostenuto.voice._types import (
    STATUSES,
    ClipCheck,
    Enrolment,
    EnrolmentReport,
    RangeReport,
    ScreeningReport,
    VoiceprintInfo,
)

__all__ = [
    "EMPHASES",
    "STATUSES",
    "Calibration",
    "Clip",
    "ClipCheck",
    "Emphasis",
    "Enrolment",
    "EnrolmentReport",
    "Hit",
    "RangeReport",
    "ScreeningReport",
    "SpeakerModel",
    "UnauthorisedVoice",
    "VoiceIndex",
    "VoiceprintInfo",
    "calibration_for",
    "check_clips",
    "declare_unauthorised",
    "enrol_voice",
    "enrol_with_report",
    "get_screening",
    "list_screenings",
    "list_voiceprints",
    "load_model",
    "screen_file",
    "threshold_for_rate",
    "timeline_svg",
    "unauthorised_voices",
    "voiceprint_status",
]
