#!/usr/bin/env python3
"""Fill census_code, gacc_code and gacc_name of dbt/seeds/countries.csv from the published code lists.

The seed keeps one row per ISO 3166-1 country (plus WLD); this script only rewrites the Census and
GACC columns, `verified` and `source_note`, and leaves iso3, name, m49 and is_aggregate alone.

Inputs (not committed; pass the files as downloaded):

  --census   US Census "Schedule C - Country List (by code)", the pipe table published at
             https://www.census.gov/foreign-trade/schedules/c/country.txt (code | name | ISO code).
  --gacc     China customs' trading-partner list (贸易伙伴编码, 贸易伙伴名称) as the statistics
             platform (stats.customs.gov.cn) exports it: GBK CSV.
  --gacc-en  The same list with English names (code, en, comment), used only to find the ISO3
             of each code; the Chinese names come from --gacc.

The copies used for the committed seed, and where they are kept, are named in CENSUS_SOURCE and
GACC_SOURCE below (and in each row's source_note).

Mapping rules:
- Census: ISO alpha-2 (3rd column) -> ISO3 with pycountry. The list's own extensions have no ISO
  country: Kosovo (KV), Gaza Strip (GZ) and West Bank (WE, both ISO PS: two codes for one country).
  They are left out, so their rows are quarantined as unknown partners. An older copy spells Burma
  BU; the current one MM.
- GACC: one code per ISO country. Codes for parts of a country (Canary Islands, Ceuta, Melilla,
  Bonaire, Saba, the French Polynesian island groups), split or former territories (Saint Martin,
  Netherlands Antilles, Serbia and Montenegro) and the residual, unknown and neutral-packing codes
  are not countries and are left out.
- A reference code (shared/reference/country-codes.md) that disagrees with the published list is
  replaced by the published one, and the note says so.

Run (pycountry is not a project dependency: `pip install pycountry==26.2.16` in any venv):

    python tools/country_codes.py --census country.txt --gacc zh-TradingPartner.csv \
        --gacc-en en-TradingPartner-cleaned-manually.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import re
from pathlib import Path

import pycountry

SEED = Path(__file__).resolve().parents[1] / "dbt" / "seeds" / "countries.csv"

CENSUS_SOURCE = (
    "US Census Schedule C country.txt (census.gov/foreign-trade/schedules/c/country.txt) as kept in "
    "github.com/TheAxiomFoundation/axiom-oracles reference/us-tariff-panel/census_schedule_c_country.txt "
    "@bd3abe94; same code in the Jan-2014 copy github.com/korenmiklos/per-shipment-costs-replication "
    "data/census/country.txt @e04dd10e"
)
GACC_SOURCE = (
    "China customs statistics platform (stats.customs.gov.cn) trading-partner list, GBK export kept in "
    "github.com/turbanisch/chinautils data-raw/china-customs-codes/partners/zh-TradingPartner.csv @3ccc5a29"
)

# Census alpha codes that are not ISO alpha-2: BU is Burma in the 2014 copy (MM in the current one);
# KV, GZ and WE have no ISO country of their own (see the module docstring).
CENSUS_ALPHA_FIXES = {"BU": "MM"}
CENSUS_NOT_ISO = {"KV", "GZ", "WE"}

# English names of the GACC list that pycountry does not resolve on its own.
GACC_NAME_FIXES = {
    "105": "BRN",  # Brunei
    "121": "MAC",  # Macau
    "128": "PSE",  # Palestine
    "137": "TUR",  # Turkey
    "144": "TLS",  # East Timor
    "208": "CPV",  # Cape Verde
    "223": "CIV",  # Ivory Coast
    "239": "STP",  # São Tomé and Príncipe
    "252": "COD",  # Democratic Republic of the Congo
    "344": "RUS",  # Russia
    "356": "VAT",  # Vatican City State
}
# GACC codes that are not one ISO country (see the module docstring).
GACC_NOT_COUNTRIES = {
    **dict.fromkeys(("199", "299", "399", "499", "599", "699"), "other ... nes (a residual area)"),
    **dict.fromkeys(("207", "210", "256"), "Canary Islands, Ceuta, Melilla: parts of Spain"),
    **dict.fromkeys(("409", "436"), "Bonaire, Saba: parts of ISO BES, with no code for Sint Eustatius"),
    **dict.fromkeys(("604", "605", "612", "615", "616"), "island groups of French Polynesia (623)"),
    "438": "Saint Martin, split between MAF and SXM",
    "349": "Serbia and Montenegro (former)",
    "449": "Netherlands Antilles (former)",
    "701": "countries (regions) unknown",
    "702": "UN and international organisations",
    "999": "neutral packing (abolished in 2008)",
}

REFERENCE_NOTE = "shared/reference/country-codes.md"
# The reference table sits beside the repository (DESIGN.md: ../shared/reference/).
REFERENCE_TABLE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "country-codes.md"


def reference_codes() -> dict[str, tuple[str, str]]:
    """iso3 -> (Census code, GACC code) as the reference table remembers them ('' when none)."""
    if not REFERENCE_TABLE.exists():
        return {}
    codes = {}
    for line in REFERENCE_TABLE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and re.fullmatch(r"[A-Z]{3}", cells[0]):
            census = re.match(r"\d{4}", cells[3])
            gacc = re.match(r"\d{3}", cells[4])
            codes[cells[0]] = (census[0] if census else "", gacc[0] if gacc else "")
    return codes


def census_codes(path: Path) -> dict[str, tuple[str, str, str]]:
    """ISO3 -> (census code, name as published, alpha-2 as published)."""
    by_iso3: dict[str, tuple[str, str, str]] = {}
    row = re.compile(r"^(\d{4})\s*\|\s*(.*?)\s*\|\s*r?\s*([A-Z]{2})\s*$")
    for line in path.read_text(encoding="ascii").splitlines():
        match = row.match(line)
        if not match:
            if line[:1].isdigit():
                raise SystemExit(f"cannot parse Schedule C line: {line!r}")
            continue
        code, name, alpha = match.groups()
        if alpha in CENSUS_NOT_ISO:
            continue
        country = pycountry.countries.get(alpha_2=CENSUS_ALPHA_FIXES.get(alpha, alpha))
        if country is None:
            raise SystemExit(f"Schedule C {code} {name}: {alpha} is not an ISO alpha-2 code")
        if country.alpha_3 in by_iso3:
            first = by_iso3[country.alpha_3][0]
            raise SystemExit(f"two Schedule C codes for {country.alpha_3}: {first}, {code}")
        by_iso3[country.alpha_3] = (code, name, alpha)
    return by_iso3


def gacc_codes(path_zh: Path, path_en: Path) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """(ISO3 -> (GACC code, Chinese name as published), every code -> its Chinese name)."""
    zh = {
        r["贸易伙伴编码"].strip(): r["贸易伙伴名称"].strip()
        for r in csv.DictReader(io.StringIO(path_zh.read_bytes().decode("gb18030")))
    }
    en = {r["code"].strip(): r["en"].strip() for r in csv.DictReader(path_en.open(encoding="utf-8"))}
    if set(zh) != set(en):
        raise SystemExit(f"the Chinese and English lists differ in codes: {sorted(set(zh) ^ set(en))}")
    by_iso3: dict[str, tuple[str, str]] = {}
    for code, name in zh.items():
        if code in GACC_NOT_COUNTRIES:
            continue
        iso3 = GACC_NAME_FIXES.get(code) or pycountry.countries.lookup(en[code]).alpha_3
        if iso3 in by_iso3:
            raise SystemExit(f"two GACC codes for {iso3}: {by_iso3[iso3][0]}, {code}")
        by_iso3[iso3] = (code, name)
    return by_iso3, zh


def iso_note(old: str) -> str:
    """The ISO 3166-1 / M49 part of an existing note, without any code wording (rerunnable)."""
    old = re.split(r"; (?:no )?census_code", old)[0]
    parts = [p.strip() for p in old.split(";")]
    kept = [p for p in parts if "m49" in p and "Comtrade" in p]
    if old.startswith("ISO 3166-1"):
        return old
    return "; ".join(
        [f"name from {REFERENCE_NOTE}", *kept, "iso3/m49 cross-checked with ISO 3166-1 via pycountry 26.2.16"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--census", type=Path, required=True)
    parser.add_argument("--gacc", type=Path, required=True)
    parser.add_argument("--gacc-en", type=Path, required=True)
    args = parser.parse_args()
    census = census_codes(args.census)
    gacc, gacc_names = gacc_codes(args.gacc, args.gacc_en)

    remembered = reference_codes()
    rows = list(csv.DictReader(SEED.open(encoding="utf-8", newline="")))
    fields = list(rows[0])
    seen_iso3 = {r["iso3"] for r in rows}
    for missing in sorted((set(census) | set(gacc)) - seen_iso3):
        raise SystemExit(f"{missing} is in a published list but not in the seed")
    for row in rows:
        iso3, old_note = row["iso3"], row["source_note"]
        old_census, old_gacc = remembered.get(iso3, ("", ""))
        if iso3 == "WLD":
            row["verified"] = "false"
            row["source_note"] = (
                "aggregate, not a country: m49 0 = Comtrade World, Census '-' = TOTAL FOR ALL COUNTRIES "
                "(the API's total row), GACC 总值 = total (no partner code); these totals are not in "
                f"the published partner lists: taken from {REFERENCE_NOTE} and DESIGN.md, not re-checked"
            )
            continue
        notes = [iso_note(old_note)]
        if iso3 in census:
            code, name, alpha = census[iso3]
            row["census_code"] = code
            fixed = f", listed as {alpha}" if alpha in CENSUS_ALPHA_FIXES else ""
            notes.append(f"census_code {code} ({name}{fixed}) from {CENSUS_SOURCE}")
            if old_census and old_census != code:
                notes.append(f"the reference note said {old_census}; the published list wins")
            if iso3 == "USA":
                notes.append("1000 is the US itself, the Census reporter (not a partner)")
        else:
            row["census_code"] = ""
            notes.append("no census_code: not in Schedule C")
        if iso3 in gacc:
            code, name = gacc[iso3]
            row["gacc_code"], row["gacc_name"] = code, name
            notes.append(f"gacc_code {code} {name} from {GACC_SOURCE}")
            if iso3 == "CHN":
                notes.append("142 is China itself (the reporter)")
            if old_gacc and old_gacc != code:
                notes.append(
                    f"the reference note said GACC {old_gacc}; the published list has {old_gacc} = "
                    f"{gacc_names.get(old_gacc, 'no partner')} and {code} = {name}"
                )
        else:
            row["gacc_code"] = row["gacc_name"] = ""
            notes.append("no gacc_code: not a partner of its own in the GACC list")
        # Every code left on the row was found in a published copy.
        row["verified"] = "true"
        row["source_note"] = "; ".join(notes)

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    SEED.write_text(out.getvalue(), encoding="utf-8")
    print(
        f"{SEED}: census_code on {sum(1 for r in rows if r['census_code'] not in ('', '-'))} countries, "
        f"gacc_code on {sum(1 for r in rows if r['gacc_code'])}"
    )


if __name__ == "__main__":
    main()
