"""Deterministic U4SSC registries of any size, for the benchmark.

    python bench/generate.py FOLDER N_RECORDS [--seed 0]

`generate(folder, n_records, seed=0)` writes a registry of exactly n_records
records under FOLDER (one file per kind and year, or per 5,000 records for
kinds without a date) and returns a summary: records per kind and the
violations planted, per rule. The same arguments always write the same
bytes.

The shape follows a secretariat's registry grown over 2017-2026 (checked as
of 2026-11-28): offices held by one person at a time do not grow with the
registry (one Chair and three Vice-Chairs per two-year term, one
Implementation Programme lead per term, an annual meeting and a work plan a
year, a few ToR revisions); everything else does, in these proportions of the
records: people 14%, appointments 12% (thematic group leads, experts, focal
points), events 10%, publications 9%, approvals about 15% (what the
publications and events need), representations 7%, meetings 7%, statements
6%, organizations 6%, external work 4%, partnerships 3%, reports 3%,
fundraising 2%, centres 1%. Nearly every record complies; a small share of
each rule's records breaches it on purpose (`PLANT`, about 2%), so a check
has violations of every kind to find and explain.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from collections import Counter
from pathlib import Path

AS_OF = "2026-11-28"
FIRST_YEAR, LAST_YEAR = 2017, 2026
PLANT = 0.02  # share of a rule's records that breach it
PER_FILE = 5000  # records per file for kinds without a date

SHARES = {  # of the records that grow with the registry (approvals follow from publications and events)
    "people": 0.14, "appointments": 0.12, "events": 0.10, "publications": 0.09, "representations": 0.07,
    "meetings": 0.07, "statements": 0.06, "organizations": 0.06, "external_work": 0.04, "partnerships": 0.03,
    "reports": 0.03, "fundraising": 0.02, "centres": 0.01,
}
ORG_TYPES = (("un_entity", 35), ("government", 15), ("city", 15), ("ngo", 15), ("private", 10), ("academia", 8),
             ("other", 2))
WORDS = ("smart", "sustainable", "city", "data", "indicators", "digital", "urban", "energy", "mobility", "water",
         "climate", "housing", "inclusion", "finance", "innovation", "governance", "resilience", "circular")


def d(x: dt.date) -> str:
    return x.isoformat()


def add_years(x: dt.date, n: int) -> dt.date:
    try:
        return x.replace(year=x.year + n)
    except ValueError:  # 29 February
        return x.replace(year=x.year + n, day=28)


class _Gen:
    def __init__(self, n_records: int, seed: int):
        self.rng = random.Random(seed)
        self.n = n_records
        self.out: dict[str, list[dict]] = {}
        self.planted: Counter = Counter()
        self.as_of = dt.date.fromisoformat(AS_OF)
        self.seq: Counter = Counter()

    # ------------------------------------------------------------ helpers
    def new_id(self, prefix: str) -> str:
        self.seq[prefix] += 1
        return f"{prefix}-{self.seq[prefix]:06d}"

    def add(self, kind: str, rec: dict) -> dict:
        self.out.setdefault(kind, []).append(rec)
        return rec

    def plant(self, rule: str) -> bool:
        if self.rng.random() < PLANT:
            self.planted[rule] += 1
            return True
        return False

    def date_between(self, lo: dt.date, hi: dt.date) -> dt.date:
        span = (hi - lo).days
        return lo + dt.timedelta(days=self.rng.randrange(max(span, 1)))

    def title(self, kind: str) -> str:
        w = self.rng.sample(WORDS, 3)
        return f"{kind} on {w[0]} {w[1]} {w[2]} {self.seq[kind] + 1}"

    def partner_on(self, day: dt.date) -> str:
        """An organization that is a partner on `day` (a core partner: since 2017, no end)."""
        return self.rng.choice(self.core)

    def count(self, kind: str) -> int:
        return max(1, round(self.n * SHARES[kind]))

    # ------------------------------------------------------------ the registry
    def run(self):
        rng = self.rng
        start, end = dt.date(FIRST_YEAR, 1, 1), self.as_of
        # organizations and partnerships: core partners are UN entities that joined in 2017
        orgs = []
        for _ in range(self.count("organizations")):
            t = rng.choices([t for t, _ in ORG_TYPES], [w for _, w in ORG_TYPES])[0]
            o = self.add("organizations", {"id": self.new_id("org"), "name": self.title("organization"), "type": t})
            orgs.append(o)
        orgs[0]["type"] = "un_entity"  # at least one
        un = [o["id"] for o in orgs if o["type"] == "un_entity"]
        others = [o["id"] for o in orgs if o["type"] != "un_entity"] or un
        n_part = self.count("partnerships")
        self.core = un[: max(1, min(len(un), int(n_part * 0.7)))]
        for oid in self.core:
            self.add("partnerships", {"id": self.new_id("ps"), "organization": oid,
                                      "since": d(self.date_between(start, dt.date(FIRST_YEAR, 5, 31)))})
        for _ in range(n_part - len(self.core)):
            since = self.date_between(dt.date(2018, 1, 1), end)
            org = rng.choice(others) if self.plant("partner-not-un-entity") else rng.choice(un)
            rec = {"id": self.new_id("ps"), "organization": org, "since": d(since)}
            if rng.random() < 0.3:
                rec["until"] = d(self.date_between(since + dt.timedelta(days=30), end + dt.timedelta(days=400)))
            self.add("partnerships", rec)
        non_partners = [o for o in others if o not in set(self.core)] or others
        # people
        people = []
        for _ in range(self.count("people")):
            rec = {"id": self.new_id("p"), "name": self.title("person")}
            if rng.random() < 0.8:
                rec["affiliation"] = rng.choice(orgs)["id"]
            people.append(self.add("people", rec)["id"])
        # annual meetings, one a year on 15 May; the Implementation Programme lead is elected there
        annual = {}
        for y in range(FIRST_YEAR, LAST_YEAR + 1):
            m = self.add("meetings", {"id": self.new_id("m-annual"), "kind": "annual", "date": f"{y}-05-15",
                                      "participants": ["secretariat", "partners"]})
            annual[y] = m["id"]
        # the steering group: a Chair and three Vice-Chairs per two-year term
        self.steering = []  # (person, start, end)
        for y in range(FIRST_YEAR, LAST_YEAR + 1, 2):
            s = dt.date(y, 6, 1)
            for i, role in enumerate(("chair", "vice_chair", "vice_chair", "vice_chair")):
                p = rng.choice(people)
                e = add_years(s, 2)
                rec = {"id": self.new_id("a-sg"), "person": p, "role": role, "start": d(s)}
                if e <= end:
                    rec["end"] = d(e)
                rec["appointed_by"] = "chair" if self.fixed((y, i) == (2021, 1), "chair-not-appointed-by-council") \
                    else "partner_council"
                rec["nominated_by"] = rng.choice(non_partners) if self.fixed(
                    (y, i) == (2023, 2), "steering-member-not-nominated-by-partner") else self.partner_on(s)
                rec["at_meeting"] = annual[y]
                self.add("appointments", rec)
                self.steering.append((p, s, e))
        # the Implementation Programme lead: one person per two-year term, elected at the annual meeting
        # (the last term renews its holder without rotation: a planted ip-lead-not-rotated)
        ip_terms = []
        years = list(range(2019, LAST_YEAR + 1, 2))
        for y in years:
            s = dt.date(y, 6, 1)
            e = add_years(s, 2)
            p = ip_terms[-1][0] if self.fixed(y == years[-1], "ip-lead-not-rotated") else rng.choice(people)
            rec = {"id": self.new_id("a-ip"), "person": p, "role": "ip_lead", "start": d(s)}
            if e <= end:
                rec["end"] = d(e)
            rec["appointed_by"] = "annual_meeting"
            if not self.fixed(y == 2021, "ip-lead-not-elected-at-annual-meeting"):
                rec["at_meeting"] = annual[y]
            self.add("appointments", rec)
            ip_terms.append((p, s, min(e, end + dt.timedelta(days=1))))
        holding = []  # (person, first day, day after the last): terms of one person merged
        for p, s, e in ip_terms:
            if holding and holding[-1][0] == p and holding[-1][2] >= s:
                holding[-1] = (p, holding[-1][1], max(e, holding[-1][2]))
            else:
                holding.append((p, s, e))
        self.ip_last = ip_terms[-1]
        # thematic group leads, experts and focal points
        n_appt = self.count("appointments") - len(self.out["appointments"])
        leads = []  # (person, start, end)
        for _ in range(max(n_appt, 0)):
            role = rng.choices(("lead", "expert", "focal_point"), (25, 50, 25))[0]
            s = self.date_between(dt.date(2018, 1, 1), end)
            rec = {"id": self.new_id("a"), "person": rng.choice(people), "role": role, "start": d(s)}
            if role == "lead":
                too_long = self.plant("term-exceeds-two-years")
                length = add_years(s, 2) + dt.timedelta(days=45) if too_long else \
                    self.date_between(s + dt.timedelta(days=180), add_years(s, 2))
                if too_long or length <= end or rng.random() < 0.5:
                    rec["end"] = d(length)
                rec["appointed_by"] = rng.choice(people) if self.plant("lead-not-appointed-by-chair") else "chair"
                rec["consulted"] = [] if self.plant("lead-appointed-without-secretariat") else ["secretariat"]
                rec["group"] = f"group {rng.randrange(1, 40)}"
                if "end" not in rec and add_years(s, 2) <= end:
                    rec["end"] = d(add_years(s, 2))
                leads.append((rec["person"], s, dt.date.fromisoformat(rec.get("end", "9999-12-31"))))
            elif role == "expert":
                rec["end"] = d(add_years(s, 1))
                rec["appointed_by"] = "secretariat"
                rec["selected_via"] = "other" if self.plant("expert-not-selected-by-call") else "call_for_nominations"
                rec["approved_by"] = ["secretariat"] if self.plant("expert-not-approved") else \
                    ["secretariat", "steering_group"]
            else:
                rec["appointed_by"] = rng.choice(non_partners) if self.plant(
                    "focal-point-not-appointed-by-partner") else self.partner_on(s)
            self.add("appointments", rec)
        # meetings: the lead's quarterly e-meetings with the secretariat, then group e-meetings and councils
        for p, s, e in holding:
            q = dt.date(s.year, 3 * ((s.month - 1) // 3) + 1, 1)
            while q < e:
                nq = dt.date(q.year + (q.month == 10), (q.month + 2) % 12 + 1, 1)
                if s <= q and nq <= e and nq <= end:
                    if not self.plant("ip-lead-missing-quarterly-meeting"):
                        day = q + dt.timedelta(days=20)
                        self.add("meetings", {"id": self.new_id("m-ip"), "kind": "e_meeting", "date": d(day),
                                              "participants": [p, "secretariat"], "convened_by": p,
                                              "minutes_uploaded": d(day + dt.timedelta(days=7))})
                q = nq
            for y in range(s.year, e.year + 1):
                covered = s <= dt.date(y, 1, 1) and dt.date(y + 1, 1, 1) <= e
                if dt.date(y, 12, 31) < end and not self.fixed(covered and (p, s, e) == holding[-1]
                                                               and y == s.year + 1, "ip-lead-no-progress-report"):
                    self.add("reports", {"id": self.new_id("r-ip"), "kind": "ip_progress", "by": p,
                                         "date": f"{y}-12-15"})
        n_meet = self.count("meetings") - len(self.out["meetings"])
        for _ in range(max(n_meet, 0)):
            if leads and rng.random() < 0.85:
                p, s, e = rng.choice(leads)
                day = self.date_between(s, min(e, end))
                rec = {"id": self.new_id("m"), "kind": "e_meeting", "date": d(day),
                       "participants": sorted({p, rng.choice(people), "secretariat"}), "convened_by": p}
                if self.plant("e-meeting-minutes-not-uploaded"):
                    if rng.random() < 0.5:
                        rec["minutes_uploaded"] = d(day + dt.timedelta(days=45))
                    elif day + dt.timedelta(days=30) >= end:
                        rec["minutes_uploaded"] = d(day + dt.timedelta(days=45))
                else:
                    rec["minutes_uploaded"] = d(day + dt.timedelta(days=rng.randrange(0, 28)))
            else:
                rec = {"id": self.new_id("m"), "kind": "partner_council", "date": d(self.date_between(start, end)),
                       "participants": ["partners", "secretariat"]}
            self.add("meetings", rec)
        # events and publications, with the approvals they need (the lead's own events: Annex I.4)
        ip_people = {p for p, _, _ in ip_terms}
        organizers = [p for p in people if p not in ip_people]
        for _ in range(self.count("events")):
            day = self.date_between(dt.date(2018, 1, 1), end + dt.timedelta(days=180))
            rec = {"id": self.new_id("ev"), "title": self.title("event"), "date": d(day),
                   "organizer": rng.choice(organizers if rng.random() < 0.6 else un)}
            if rng.random() < 0.4:
                rec["co_organizers"] = [self.partner_on(day)]
            if rng.random() < 0.5:
                rec["logos"] = ["u4ssc"]
                if not self.plant("u4ssc-logo-without-approval"):
                    self.approval("logo_use", rec["id"], day - dt.timedelta(days=rng.randrange(5, 60)), "u4ssc")
            self.add("events", rec)
        published, drafts = [], []
        for _ in range(self.count("publications")):
            pid = self.new_id("pub")
            rec = {"id": pid, "title": self.title("publication")}
            draft = rng.random() < 0.12
            day = self.as_of if draft else self.date_between(dt.date(2018, 1, 1), end)
            rec["status"] = "draft" if draft else "published"
            if not draft:
                rec["published_on"] = d(day)
            rec["responsible"] = rng.choice(people) if rng.random() < 0.5 else rng.choice(un)
            logos = []
            if rng.random() < 0.5:
                logos.append("u4ssc")
                if not self.plant("u4ssc-logo-without-approval"):
                    self.approval("logo_use", pid, day - dt.timedelta(days=rng.randrange(1, 30)), "u4ssc")
            if rng.random() < 0.3:
                logos.append(rng.choice(non_partners) if self.plant("non-partner-logo") else self.partner_on(day))
            if logos:
                rec["logos"] = logos
            if not draft and rng.random() < 0.4:
                rec["copyright"] = [rng.choice(others) if self.plant("copyright-outside-un-partners")
                                    else self.partner_on(day)]
            if not draft and rng.random() < 0.1:
                earlier = [q for q, qday in published[-200:] if qday <= day]
                if earlier:
                    rec["reproduces"] = [rng.choice(earlier)]
            if not self.plant("publication-without-consent"):
                self.approval("written_consent", pid, day - dt.timedelta(days=rng.randrange(1, 30)))
            self.add("publications", rec)
            if not draft:
                published.append((pid, day))
            else:
                drafts.append(pid)
        # centres and their annual reports
        for i in range(self.count("centres")):
            cid = self.new_id("c")
            approved = self.date_between(dt.date(2018, 1, 1), dt.date(2022, 1, 1)) if i < 3 else \
                self.date_between(dt.date(2018, 1, 1), end)
            rec = {"id": cid, "name": self.title("centre"), "scope": rng.choice(("country", "city"))}
            if not (self.fixed(i == 0, "centre-without-partner") or self.plant("centre-without-partner")):
                rec["partner"] = self.partner_on(approved)
            rec["approved_by"] = "steering_group" if self.fixed(i == 1, "centre-not-approved-by-partners") or \
                self.plant("centre-not-approved-by-partners") else "partners"
            rec["approved_on"] = d(approved)
            self.add("centres", rec)
            for y in range(approved.year + 1, LAST_YEAR):
                if dt.date(y + 1, 3, 31) < end and not (self.fixed(i == 2 and y == approved.year + 1,
                                                                   "centre-missing-annual-report")
                                                        or self.plant("centre-missing-annual-report")):
                    self.add("reports", {"id": self.new_id("r"), "kind": "centre_annual", "by": cid, "year": y,
                                         "date": f"{y + 1}-0{rng.randrange(1, 4)}-1{rng.randrange(0, 9)}"})
        # work plans, one a year, and the ToR's revisions
        for y in range(FIRST_YEAR + 1, LAST_YEAR + 1):
            rec = {"id": self.new_id("wp"), "year": y, "compiled_by": "secretariat",
                   "reviewed_by_steering_group_on": f"{y}-04-20", "presented_at": annual[y], "approved_at": annual[y],
                   "approved_by": "partners"}
            if self.fixed(y == 2018, "work-plan-not-compiled-by-secretariat"):
                rec["compiled_by"] = "steering_group"
            if self.fixed(y == 2019, "work-plan-not-reviewed-by-steering-group"):
                del rec["reviewed_by_steering_group_on"]
            if self.fixed(y == 2020, "work-plan-not-presented-at-annual-meeting"):
                del rec["presented_at"]
            if self.fixed(y == 2022, "work-plan-not-approved-at-annual-meeting"):
                rec["approved_by"] = "steering_group"
            self.add("work_plans", rec)
        for y in (2018, 2021, 2024):
            rec = {"id": self.new_id("tor"), "adopted_on": f"{y}-05-15", "submitted_by": "secretariat",
                   "approved_by": "partners"}
            if self.fixed(y == 2021, "tor-not-submitted-by-secretariat"):
                del rec["submitted_by"]
            if self.fixed(y == 2024, "tor-revision-not-approved-by-partners"):
                rec["approved_by"] = "steering_group"
            self.add("tor_revisions", rec)
        self.ip_lead_plants(published, drafts)
        # conduct, last: the kinds no record refers to take what is left of n, in their proportions
        left = self.n - sum(len(v) for v in self.out.values())
        leaves = ("representations", "statements", "external_work", "fundraising")
        weight = sum(SHARES[k] for k in leaves)
        self.leaf = {k: max(0, int(left * SHARES[k] / weight)) for k in leaves}
        for _ in range(self.leaf["representations"]):
            day = self.date_between(dt.date(2018, 1, 1), end)
            rec = {"id": self.new_id("rep"), "person": rng.choice(people), "venue": self.title("venue"),
                   "date": d(day)}
            if not self.plant("representation-without-notice"):
                rec["secretariat_informed_on"] = d(day - dt.timedelta(days=rng.randrange(1, 40)))
            self.add("representations", rec)
        steering = [x for x in self.steering]
        for _ in range(self.leaf["statements"]):
            day = self.date_between(dt.date(2018, 1, 1), end)
            if self.plant("unauthorised-statement"):
                speaker = rng.choice(non_partners)
            elif rng.random() < 0.5:
                speaker = self.partner_on(day)
            else:
                holders = [p for p, s, e in steering if s <= day < e]
                speaker = rng.choice(holders) if holders else self.partner_on(day)
            self.add("statements", {"id": self.new_id("st"), "speaker": speaker, "date": d(day),
                                    "text": self.title("statement")})
        for _ in range(self.leaf["fundraising"]):
            via = rng.random() < 0.5
            rec = {"id": self.new_id("fr"), "by": rng.choice(people),
                   "date": d(self.date_between(dt.date(2018, 1, 1), end)), "via_programme": "true" if via else "false"}
            if via:
                rec["jointly_with"] = [self.partner_on(self.as_of)] if self.plant(
                    "fundraising-without-secretariat") else ["secretariat", self.partner_on(self.as_of)]
            self.add("fundraising", rec)
        for _ in range(self.leaf["external_work"]):
            day = self.date_between(dt.date(2018, 1, 1), end - dt.timedelta(days=40))
            rec = {"id": self.new_id("xw"), "by": rng.choice(people), "forum": self.title("forum"), "started": d(day)}
            if self.plant("external-work-reported-late"):
                rec["reported_on"] = d(day + dt.timedelta(days=50))
            elif not self.plant("external-work-not-reported"):
                rec["reported_on"] = d(day + dt.timedelta(days=rng.randrange(0, 25)))
            self.add("external_work", rec)
        self.fit()

    def fixed(self, here: bool, rule: str) -> bool:
        """A breach planted at a fixed place (offices held by one person: too few records for a rate)."""
        if here:
            self.planted[rule] += 1
        return here

    def ip_lead_plants(self, published, drafts):
        """One breach of each Annex I.4 duty by the current Implementation Programme lead, and a reproduced draft."""
        p, s, e = self.ip_last
        day = s + dt.timedelta(days=100)
        partner = self.core[0]
        self.fixed(True, "ip-lead-event-without-partner")
        self.add("events", {"id": self.new_id("ev"), "title": self.title("event"), "date": d(day), "organizer": p})
        self.fixed(True, "ip-lead-partner-logo-without-consent")
        self.add("events", {"id": self.new_id("ev"), "title": self.title("event"), "date": d(day),
                            "organizer": p, "co_organizers": [partner], "logos": [partner]})
        self.fixed(True, "ip-lead-represents-partner")
        self.add("representations", {"id": self.new_id("rep"), "person": p, "venue": self.title("venue"),
                                     "date": d(day), "on_behalf_of": partner,
                                     "secretariat_informed_on": d(day - dt.timedelta(days=10))})
        self.fixed(True, "ip-lead-appointment-without-consent")
        self.add("appointments", {"id": self.new_id("a"), "person": self.rng.choice(self.out["people"])["id"],
                                  "role": "expert", "start": d(day), "end": d(add_years(day, 1)), "appointed_by": p,
                                  "selected_via": "call_for_nominations",
                                  "approved_by": ["secretariat", "steering_group"]})
        if drafts:
            self.fixed(True, "unpublished-material-without-consent")
            pid = self.new_id("pub")
            self.add("publications", {"id": pid, "title": self.title("publication"), "status": "published",
                                      "published_on": d(day), "responsible": self.core[0], "reproduces": [drafts[0]]})
            self.approval("written_consent", pid, day - dt.timedelta(days=3))

    def approval(self, kind, subject, day: dt.date, logo=None):
        rec = {"id": self.new_id("ap"), "kind": kind, "by": "secretariat", "date": d(day), "subject": subject}
        if logo:
            rec["logo"] = logo
        self.add("approvals", rec)

    def fit(self):
        """Exactly n records: people nobody refers to make up the rest."""
        for _ in range(self.n - sum(len(v) for v in self.out.values())):
            self.add("people", {"id": self.new_id("p"), "name": self.title("person")})


# ---------------------------------------------------------------- writing


def _scalar(v) -> str:
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    s = str(v)
    if s.replace("-", "").replace("_", "").replace(".", "").isalnum() and s not in ("true", "false"):
        return s
    if s in ("true", "false"):
        return s
    return json.dumps(s, ensure_ascii=False)


DATE_FIELD = {"partnerships": "since", "appointments": "start", "meetings": "date", "events": "date",
              "publications": "published_on", "approvals": "date", "centres": "approved_on", "reports": "date",
              "representations": "date", "statements": "date", "fundraising": "date", "external_work": "started",
              "work_plans": "year", "tor_revisions": "adopted_on"}


def write(out: dict, folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[str]] = {}
    for kind in sorted(out):
        recs = out[kind]
        field = DATE_FIELD.get(kind)
        for i, r in enumerate(recs):
            if field:
                part = str(r.get(field, AS_OF))[:4]
            else:
                part = f"part-{i // PER_FILE + 1:03d}"
            lines = files.setdefault(f"{kind}/{part}.yaml", [f"{kind}:"])
            first = True
            for k, v in r.items():
                lines.append(("  - " if first else "    ") + f"{k}: {_scalar(v)}")
                first = False
    for name in sorted(files):
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("\n".join(files[name]) + "\n", encoding="utf-8")
    return len(files)


def generate(folder, n_records: int, seed: int = 0) -> dict:
    """Write a registry of n_records records under folder; return {"records": {kind: n}, "planted": {rule: n}}."""
    g = _Gen(n_records, seed)
    g.run()
    n_files = write(g.out, Path(folder))
    return {"records": {k: len(v) for k, v in sorted(g.out.items())}, "files": n_files,
            "planted": dict(sorted(g.planted.items()))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("records", type=int)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    print(json.dumps(generate(args.folder, args.records, args.seed), indent=2))


if __name__ == "__main__":
    main()
