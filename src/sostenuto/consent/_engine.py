"""The decision engine: one :class:`Context` per (licensee, use, territory, date).

A context settles everything that does not depend on the recording: which rules apply, which
mandates are valid, which licences, reciprocal agreements and extended licences count. Each
performer then gets a *verdict* (deny, permit or uncovered, with the rules and licences behind
it); performers in the same position share one verdict, so a recording's decision is the
combination of its contributors' verdicts, memoised by the set of verdicts. Batches do that
combination with NumPy; single decisions with a few list look-ups.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from sostenuto.consent._snapshot import IntArray, RuleRow, Snapshot
from sostenuto.consent._types import Basis
from sostenuto.vocabulary import WORLDWIDE, use_ancestry

DENY, PERMIT, UNCOVERED = "deny", "permit", "uncovered"
CONTEXT_CACHE_SIZE = 64


def _covers(territories: frozenset[str], territory: str) -> bool:
    return WORLDWIDE in territories or territory in territories


@dataclass(frozen=True, slots=True)
class Verdict:
    """Where one performer stands in a context; ``why`` never names the performer."""

    kind: str
    rule_ids: tuple[int, ...]
    licence_ids: tuple[int, ...]
    conditions: tuple[str, ...]
    why: str


def _ids(values: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted(set(values)))


def _join(ids: Sequence[int]) -> str:
    return ", ".join(str(value) for value in ids)


class Context:
    """Everything decided once for a licensee, use, territory and day."""

    def __init__(
        self,
        snapshot: Snapshot,
        licensee_id: int,
        use: str,
        territory: str,
        day: int,
        model_id: int | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.licensee_id = licensee_id
        self.model_id = model_id
        self.use = use
        self.territory = territory
        self.day = day
        ancestry = use_ancestry(use)
        self.ancestry = ancestry
        self.rules = snapshot.rules_by_id
        self.lock = threading.Lock()

        # (1) and (2): the rules in force here, by scope.
        self.prohibit: dict[tuple[str, int], list[int]] = {}
        self.permit: dict[tuple[str, int], list[int]] = {}
        for rule in snapshot.rules:
            if rule.licensee_id is not None and rule.licensee_id != licensee_id:
                continue
            if not (rule.start <= day <= rule.end and day < rule.revoked):
                continue
            if not _covers(rule.territories, territory):
                continue
            if rule.effect == "prohibit":
                if any(code in rule.uses for code in ancestry):
                    self.prohibit.setdefault((rule.scope, rule.scope_id), []).append(rule.id)
            elif use in rule.uses:
                self.permit.setdefault((rule.scope, rule.scope_id), []).append(rule.id)

        # Mandates in force: territory covered, the use or a broader one entrusted, date.
        term_ok = np.array(
            [
                _covers(territories, territory) and any(code in uses for code in ancestry)
                for territories, uses in snapshot.terms
            ],
            dtype=np.bool_,
        )
        if len(snapshot.m_term):
            self.mandate_valid = (
                term_ok[snapshot.m_term] & (snapshot.m_start <= day) & (snapshot.m_end >= day)
            )
        else:
            self.mandate_valid = np.zeros(0, dtype=np.bool_)

        # (3): licences to this licensee, by granting CMO, then by the CMO whose members they
        # reach (its own, and those it represents through a reciprocal agreement).
        direct: dict[int, list[int]] = {}
        self.licence_conditions: dict[int, tuple[str, ...]] = {}
        for licence in snapshot.licences:
            if (
                licence.licensee_id == licensee_id
                and day < licence.suspended
                and licence.model_id in (None, model_id)
                and licence.start <= day <= licence.end
                and use in licence.uses
                and _covers(licence.territories, territory)
            ):
                direct.setdefault(licence.cmo_id, []).append(licence.id)
                self.licence_conditions[licence.id] = licence.conditions
        represented_by: dict[int, list[int]] = {}
        for agreement in snapshot.agreements:
            if (
                agreement.start <= day <= agreement.end
                and _covers(agreement.territories, territory)
                and any(code in agreement.uses for code in ancestry)
            ):
                represented_by.setdefault(agreement.partner_cmo_id, []).append(agreement.cmo_id)
        self.member_licences: dict[int, list[tuple[int, int]]] = {}  # cmo -> (licence, granter)
        for cmo_id in snapshot.cmo_country:
            reach = [(licence, cmo_id) for licence in direct.get(cmo_id, ())]
            for representative in represented_by.get(cmo_id, ()):
                if representative != cmo_id:
                    reach.extend(
                        (licence, representative) for licence in direct.get(representative, ())
                    )
            if reach:
                self.member_licences[cmo_id] = reach

        # (4): extended licences of a CMO of this country, where the law allows them.
        self.extended: list[int] = []
        jurisdiction = snapshot.jurisdictions.get(territory)
        ecl_here = bool(
            jurisdiction and jurisdiction.extended_licensing and use in jurisdiction.ecl_uses
        )
        # CMOs the law gives standing for non-members here (their country's ECL).
        self.ecl_cmos = frozenset(
            cmo_id
            for cmo_id, country in snapshot.cmo_country.items()
            if ecl_here and country == territory
        )
        if ecl_here:
            for licence in snapshot.licences:
                if (
                    licence.extended
                    and licence.id in self.licence_conditions
                    and snapshot.cmo_country.get(licence.cmo_id) == territory
                ):
                    self.extended.append(licence.id)

        self.verdicts: list[Verdict] = []
        self._verdict_index: dict[Verdict, int] = {}
        self.bases: list[Basis] = []
        self._basis_index: dict[Basis, int] = {}
        self._combined: dict[frozenset[int], int] = {}
        self.rule_recordings = np.array(
            sorted({key[1] for key in (*self.prohibit, *self.permit) if key[0] == "recording"}),
            dtype=np.int64,
        )
        self.performer_verdicts = self._all_performer_verdicts()

    # -- verdicts -------------------------------------------------------------------------

    def _intern(self, verdict: Verdict) -> int:
        index = self._verdict_index.get(verdict)
        if index is None:
            index = len(self.verdicts)
            self.verdicts.append(verdict)
            self._verdict_index[verdict] = index
        return index

    def _conditions(self, rule_ids: Iterable[int], licence_ids: Iterable[int]) -> tuple[str, ...]:
        found: set[str] = set()
        for rule_id in rule_ids:
            found.update(self.rules[rule_id].conditions)
        for licence_id in licence_ids:
            found.update(self.licence_conditions[licence_id])
        return tuple(sorted(found))

    def authorised(self, rule_id: int, member_cmos: Sequence[int]) -> bool:
        """Whether a performer- or recording-scope rule speaks for a performer who is a
        member of ``member_cmos`` here: a CMO's rule counts only where its mandate (or, for a
        non-member, its country's extended licensing) gives it standing. An opt-out (or another
        rule the performer made, relayed by a CMO) is the performer's own and the operator's
        rules are unbounded."""
        rule = self.rules[rule_id]
        if rule.cmo_id is None or rule.source in ("opt-out", "performer") or rule.scope == "cmo":
            return True
        if member_cmos:
            return rule.cmo_id in member_cmos
        return rule.cmo_id in self.ecl_cmos

    def verdict_for(self, member_cmos: Sequence[int], performer_id: int | None) -> Verdict:
        """Steps (1)-(4) for a performer who is a member of ``member_cmos`` here."""
        denied: list[int] = []
        if performer_id is not None:
            denied.extend(
                rule_id
                for rule_id in self.prohibit.get(("performer", performer_id), ())
                if self.authorised(rule_id, member_cmos)
            )
        for cmo_id in member_cmos:
            denied.extend(self.prohibit.get(("cmo", cmo_id), ()))
        if denied:
            ids = _ids(denied)
            return Verdict(DENY, ids, (), (), f"prohibited by rule {_join(ids)}")
        permits: list[int] = []
        whys: list[str] = []
        if performer_id is not None:
            own = [
                rule_id
                for rule_id in self.permit.get(("performer", performer_id), ())
                if self.authorised(rule_id, member_cmos)
            ]
            if own:
                permits.extend(own)
                whys.append(f"performer permission rule {_join(sorted(own))}")
        for cmo_id in member_cmos:
            granted = self.permit.get(("cmo", cmo_id), ())
            if granted:
                permits.extend(granted)
                whys.append(f"CMO {cmo_id} permission rule {_join(sorted(granted))}")
        if permits:
            ids = _ids(permits)
            return Verdict(PERMIT, ids, (), self._conditions(ids, ()), "; ".join(whys))
        licences: list[int] = []
        for cmo_id in member_cmos:
            for licence_id, granter in self.member_licences.get(cmo_id, ()):
                licences.append(licence_id)
                if granter == cmo_id:
                    whys.append(f"licence {licence_id} from member CMO {cmo_id}")
                else:
                    whys.append(
                        f"licence {licence_id} from CMO {granter} representing CMO {cmo_id}"
                    )
        if licences:
            ids = _ids(licences)
            return Verdict(PERMIT, (), ids, self._conditions((), ids), "; ".join(sorted(set(whys))))
        if not member_cmos:
            if self.extended:
                ids = _ids(self.extended)
                return Verdict(
                    PERMIT,
                    (),
                    ids,
                    self._conditions((), ids),
                    f"extended collective licence {_join(ids)} in {self.territory}"
                    " for a performer no CMO represents here",
                )
            return Verdict(
                UNCOVERED,
                (),
                (),
                (),
                f"a performer no CMO represents in {self.territory} for {self.use},"
                " with no permission and no extended licence",
            )
        return Verdict(
            UNCOVERED,
            (),
            (),
            (),
            f"a member of CMO {_join(sorted(member_cmos))} with no permission"
            f" and no licence for {self.use} in {self.territory}",
        )

    def member_cmos(self, performer_id: int) -> list[int]:
        """The CMOs holding a mandate of the performer valid here (reference path)."""
        snapshot = self.snapshot
        found: set[int] = set()
        for row in snapshot.mandate_rows(performer_id):
            territories, uses = snapshot.terms[int(snapshot.m_term[row])]
            if (
                int(snapshot.m_start[row]) <= self.day <= int(snapshot.m_end[row])
                and _covers(territories, self.territory)
                and any(code in uses for code in self.ancestry)
            ):
                found.add(int(snapshot.m_cmo[row]))
        return sorted(found)

    def performer_verdict(self, performer_id: int) -> int:
        """A performer's verdict computed directly, without the vectorised shortcut."""
        return self._intern(self.verdict_for(self.member_cmos(performer_id), performer_id))

    def _all_performer_verdicts(self) -> IntArray:
        """Every performer's verdict index, vectorised for performers without rules of their own."""
        snapshot = self.snapshot
        size = len(snapshot.perf_known)
        valid = self.mandate_valid
        members = snapshot.m_perf[valid]
        counts = np.bincount(members, minlength=size) if len(members) else np.zeros(size, np.int64)
        single = np.zeros(size, dtype=np.int64)
        single[members] = snapshot.m_cmo[valid]
        by_cmo = np.zeros(snapshot.max_cmo + 1, dtype=np.int64)
        for cmo_id in snapshot.cmo_country:
            by_cmo[cmo_id] = self._intern(self.verdict_for((cmo_id,), None))
        outsider = self._intern(self.verdict_for((), None))
        verdicts = np.where(counts == 0, outsider, by_cmo[single])
        own = {key[1] for key in (*self.prohibit, *self.permit) if key[0] == "performer"}
        special = set(np.nonzero(counts > 1)[0].tolist())
        special.update(p for p in own if 0 <= p < size)
        for performer_id in special:
            verdicts[performer_id] = self.performer_verdict(performer_id)
        return verdicts

    # -- recordings -----------------------------------------------------------------------

    def _basis(self, basis: Basis) -> int:
        index = self._basis_index.get(basis)
        if index is None:
            index = len(self.bases)
            self.bases.append(basis)
            self._basis_index[basis] = index
        return index

    def combine(self, verdict_ids: frozenset[int]) -> int:
        """The basis index for a recording whose contributors hold ``verdict_ids``."""
        found = self._combined.get(verdict_ids)
        if found is not None:
            return found
        verdicts = [self.verdicts[index] for index in sorted(verdict_ids)]
        index = self._basis(self._combine_verdicts(verdicts, []))
        self._combined[verdict_ids] = index
        return index

    def _combine_verdicts(self, verdicts: Sequence[Verdict], denied: Sequence[int]) -> Basis:
        refused = [*denied, *(r for v in verdicts if v.kind == DENY for r in v.rule_ids)]
        if refused:
            ids = _ids(refused)
            return Basis("deny", f"prohibited by rule {_join(ids)}", ids, (), ())
        if not verdicts:
            return Basis(
                "deny",
                "no contributors are registered and no recording-level permission applies",
                (),
                (),
                (),
            )
        if any(verdict.kind == UNCOVERED for verdict in verdicts):
            whys = sorted({v.why for v in verdicts if v.kind == UNCOVERED})
            return Basis("deny", "not every contributor is covered: " + "; ".join(whys), (), (), ())
        rule_ids = _ids(r for v in verdicts for r in v.rule_ids)
        licence_ids = _ids(lic for v in verdicts for lic in v.licence_ids)
        conditions = tuple(sorted({c for v in verdicts for c in v.conditions}))
        whys = sorted({v.why for v in verdicts})
        return Basis(
            "permit",
            "every contributor is covered: " + "; ".join(whys),
            rule_ids,
            licence_ids,
            conditions,
        )

    def has_recording_rules(self, recording_id: int) -> bool:
        return ("recording", recording_id) in self.prohibit or (
            "recording",
            recording_id,
        ) in self.permit

    def decide_recording(self, recording_id: int) -> int:
        """Basis index for one recording (the plain path, also the reference for batches)."""
        snapshot = self.snapshot
        start, end = snapshot.rec_ptr[recording_id], snapshot.rec_ptr[recording_id + 1]
        if self.has_recording_rules(recording_id):
            return self._with_recording_rules(
                recording_id, snapshot.contrib_perf[start:end].tolist()
            )
        codes = frozenset(self.performer_verdicts[snapshot.contrib_perf[start:end]].tolist())
        return self.combine(codes)

    def _with_recording_rules(self, recording_id: int, performers: list[int]) -> int:
        """A recording with rules of its own: a CMO's recording rule speaks only for the
        contributors it represents here, so its permission covers those alone and its
        prohibition counts only if it represents one of them."""
        members = {performer: self.member_cmos(performer) for performer in performers}
        key = ("recording", recording_id)
        denied = [
            rule_id
            for rule_id in self.prohibit.get(key, ())
            if self.rules[rule_id].cmo_id is None
            or any(self.authorised(rule_id, members[p]) for p in performers)
        ]
        permits = self.permit.get(key, ())
        verdicts: list[Verdict] = []
        for performer in performers:
            verdict = self.verdicts[int(self.performer_verdicts[performer])]
            covering = _ids(r for r in permits if self.authorised(r, members[performer]))
            if covering and verdict.kind != DENY:
                verdict = Verdict(
                    PERMIT,
                    covering,
                    (),
                    self._conditions(covering, ()),
                    f"recording permission rule {_join(covering)}",
                )
            verdicts.append(verdict)
        if not performers:
            unbounded = _ids(r for r in permits if self.rules[r].cmo_id is None)
            if unbounded and not denied:
                return self._basis(
                    Basis(
                        "permit",
                        f"recording permission rule {_join(unbounded)} covers every contributor",
                        unbounded,
                        (),
                        self._conditions(unbounded, ()),
                    )
                )
        return self._basis(self._combine_verdicts(verdicts, denied))

    def decide_many(self, recordings: IntArray) -> IntArray:
        """Basis index per recording, vectorised: the set of verdicts as a 64-bit mask."""
        snapshot = self.snapshot
        starts = snapshot.rec_ptr[recordings]
        lengths = snapshot.rec_ptr[recordings + 1] - starts
        offsets = np.cumsum(lengths) - lengths
        total = int(lengths.sum())
        positions = np.arange(total, dtype=np.int64) - np.repeat(offsets - starts, lengths)
        codes = self.performer_verdicts[snapshot.contrib_perf[positions]]
        count = len(self.verdicts)
        rare_bit = 63
        if count <= rare_bit:
            slot_verdicts = np.arange(count, dtype=np.int64)
            bits = codes
        else:
            # The 63 commonest verdicts get a bit each; recordings touching any other one
            # take the plain path.
            frequency = np.bincount(codes, minlength=count)
            slot_verdicts = np.argsort(-frequency, kind="stable")[:rare_bit]
            slot_of = np.full(count, rare_bit, dtype=np.int64)
            slot_of[slot_verdicts] = np.arange(len(slot_verdicts))
            bits = slot_of[codes]
        onehot = np.left_shift(np.uint64(1), bits.astype(np.uint64))
        masks = np.zeros(len(recordings), dtype=np.uint64)
        filled = lengths > 0
        if total:
            masks[filled] = np.bitwise_or.reduceat(onehot, offsets[filled])
        special = (masks >> np.uint64(rare_bit)).astype(np.bool_)
        if len(self.rule_recordings):
            special |= np.isin(recordings, self.rule_recordings)
        result = np.empty(len(recordings), dtype=np.int64)
        plain = ~special
        unique, inverse = np.unique(masks[plain], return_inverse=True)
        mapped = np.empty(len(unique), dtype=np.int64)
        slots = slot_verdicts.tolist()
        for position, mask in enumerate(unique.tolist()):
            verdict_ids = frozenset(slots[bit] for bit in range(rare_bit) if mask >> bit & 1)
            mapped[position] = self.combine(verdict_ids)
        result[plain] = mapped[inverse.reshape(-1)]
        for position in np.nonzero(special)[0].tolist():
            result[position] = self.decide_recording(int(recordings[position]))
        return result

    def decide_performer(self, performer_id: int) -> Basis:
        verdict = self.verdicts[int(self.performer_verdicts[performer_id])]
        if verdict.kind == PERMIT:
            return Basis(
                "permit", verdict.why, verdict.rule_ids, verdict.licence_ids, verdict.conditions
            )
        return Basis("deny", verdict.why, verdict.rule_ids, (), ())


def context(
    snapshot: Snapshot,
    licensee_id: int,
    use: str,
    territory: str,
    day: int,
    model_id: int | None = None,
) -> Context:
    """The cached context for these terms on this snapshot (built on first use)."""
    key = (licensee_id, use, territory, day, model_id)
    with snapshot.lock:
        found = snapshot.contexts.get(key)
        if found is not None:
            snapshot.contexts.move_to_end(key)
            return found
        built = Context(snapshot, licensee_id, use, territory, day, model_id)
        snapshot.contexts[key] = built
        if len(snapshot.contexts) > CONTEXT_CACHE_SIZE:
            snapshot.contexts.popitem(last=False)
        return built


def applies(rule: RuleRow, licensee_id: int, use: str, territory: str, day: int) -> bool:
    """Whether a rule is in force for these terms (prohibitions reach narrower uses)."""
    if rule.licensee_id is not None and rule.licensee_id != licensee_id:
        return False
    if not (rule.start <= day <= rule.end and day < rule.revoked):
        return False
    if not _covers(rule.territories, territory):
        return False
    if rule.effect == "prohibit":
        return any(code in rule.uses for code in use_ancestry(use))
    return use in rule.uses
