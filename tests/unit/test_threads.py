"""One Engine shared by threads: every result equals the single-threaded result."""

from __future__ import annotations

import random
import threading

from .helpers import case, fresh_engine, income, person

NAMES = ["hh.monthly_income", "hh.household_size", "hh.household_members", "hh.household_income",
         "hh.fpl_percent", "hh.income_limit", "hh.income_band", "hh.age_group", "hh.flags",
         "hh.allowance", "hh.income_with_bonus", "hh.anyone_pregnant", "hh.youngest_age",
         "hh.oldest_adult_age", "hh.case_label"]
DATES = ["2022-01-15", "2023-06-01", "2024-03-31", "2024-04-01", "2024-06-01"]
THREADS, PER_THREAD = 4, 50


def make_cases() -> list[tuple[dict, str]]:
    rng = random.Random(20240601)
    cases = []
    for n in range(THREADS * PER_THREAD):
        size = rng.randint(1, 4)
        people = []
        for i in range(size):
            incomes = [income(f"{rng.randint(0, 400000) / 100:.2f}",
                              rng.choice(["weekly", "monthly", "annual"]))
                       for _ in range(rng.randint(0, 2))]
            facts = {"age": rng.randint(0, 90), "pregnant": rng.random() < 0.2,
                     "disabled": rng.random() < 0.1, "incomes": incomes}
            if i > 0 and rng.random() < 0.7:
                facts["parents"] = ["p0"]
            people.append(person(f"p{i}", **facts))
        cases.append((case(*people, case_id=f"case-{n}"), DATES[n % len(DATES)]))
    return cases


def snapshot(evaluation) -> dict:
    return evaluation.as_dict(explain=True)


def test_concurrent_evaluations_match_single_threaded_results():
    cases = make_cases()
    single = fresh_engine("household")
    expected = [snapshot(single.evaluate(data, as_of=on, names=NAMES)) for data, on in cases]

    shared = fresh_engine("household")
    results: dict[int, dict] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def work(worker: int):
        try:
            barrier.wait()
            for index in range(worker, len(cases), THREADS):   # interleave the dates
                data, on = cases[index]
                results[index] = snapshot(shared.evaluate(data, as_of=on, names=NAMES))
        except BaseException as exc:  # reported below, with the thread's traceback
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(results) == len(cases)
    for index, want in enumerate(expected):
        assert results[index] == want, f"case {index} ({cases[index][1]}) differs"


def test_the_cases_exercise_more_than_one_branch():
    # Guard against a test that passes because every case gives the same answers.
    single = fresh_engine("household")
    seen = set()
    for data, on in make_cases()[:60]:
        ev = single.evaluate(data, as_of=on, names=["hh.age_group", "hh.income_band"])
        seen.update(r.value for r in ev.results)
    assert {"INFANT", "CHILD", "ADULT", "SENIOR", "LOW", "HIGH"} <= seen
