"""Random but reproducible households for the batch tests: every program has a chance to apply.

Adults with and without spouses, children claimed by a parent, pregnancies, people with
Medicare, disabled workers (Ticket to Work), the uninsured and the insured, and incomes of every
frequency: enough variety that a batch run reaches MAGI levels of care, CHIP premiums, the
Medicare Savings Programs, Ticket to Work and the MHABD rules.
"""

from __future__ import annotations

import random

FREQUENCIES = ["weekly", "biweekly", "semimonthly", "monthly", "annual"]
TYPES = ["wages", "wages", "self_employment", "social_security", "unemployment", "child_support",
         "pension", "interest"]


def _income(rng: random.Random) -> dict:
    if rng.random() < 0.2:
        return {"type": "wages", "amount": f"{rng.randint(8, 40)}.{rng.randint(0, 99):02d}",
                "frequency": "hourly", "hours_per_week": str(rng.choice([10, 20, 30, 40]))}
    frequency = rng.choice(FREQUENCIES)
    scale = {"weekly": 400, "biweekly": 800, "semimonthly": 900, "monthly": 1800, "annual": 22000}[frequency]
    amount = rng.randint(0, scale * 3)
    return {"type": rng.choice(TYPES), "amount": f"{amount}.{rng.randint(0, 99):02d}",
            "frequency": frequency}


def _person(rng: random.Random, ident: str, age: int, **facts) -> dict:
    person = {"id": ident, "age": age, "sex": rng.choice(["female", "male"]),
              "insured": rng.random() < 0.15, "applying": rng.random() < 0.95, "incomes": []}
    person.update(facts)
    return person


def household(rng: random.Random, index: int, as_of: str = "2025-08-01") -> dict:
    people = []
    older = rng.random() < 0.2
    adult = _person(rng, "a", rng.randint(65, 90) if older else rng.randint(19, 64), tax_filer=True)
    if older or rng.random() < 0.05:
        adult["medicare"] = True
    if rng.random() < 0.15:
        adult["disabled"] = True
    adult["incomes"] = [_income(rng) for _ in range(rng.choice([0, 1, 1, 2]))]
    people.append(adult)
    if rng.random() < 0.5:
        spouse = _person(rng, "b", max(19, adult["age"] + rng.randint(-6, 6)), tax_filer=True,
                         spouse="a")
        adult["spouse"] = "b"
        spouse["incomes"] = [_income(rng) for _ in range(rng.choice([0, 1]))]
        if spouse["sex"] == "female" and spouse["age"] < 45 and rng.random() < 0.2:
            spouse.update(pregnant=True, unborn_children=rng.choice([1, 1, 2]))
        people.append(spouse)
    parents = [p["id"] for p in people]
    if not older:
        for k in range(rng.choice([0, 1, 1, 2, 3])):
            child = _person(rng, f"k{k}", rng.randint(0, 18), claimed_by="a", parents=parents)
            if child["age"] >= 16 and rng.random() < 0.3:
                child["incomes"] = [_income(rng)]
            people.append(child)
    return {"case_id": f"g{index}", "as_of": as_of, "people": people}


def households(count: int, seed: int = 12, as_of: str = "2025-08-01") -> list[dict]:
    rng = random.Random(seed)
    return [household(rng, i, as_of) for i in range(count)]
