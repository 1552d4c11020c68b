"""The regions a city is told apart by: divisions geonames has no names for, and what
people call some countries.

"London, Ontario" and "Perth, Western Australia" need the names of Canadian and Australian
divisions, and "USA", "UK" or "Holland" are how many people write those countries.
"""

from __future__ import annotations

# A region is (country code, division code, or "" for the whole country).
Region = tuple[str, str]
# Geonames has names for US states only; these are the other divisions people name when
# they tell two towns apart ("London, Ontario", "Perth, Western Australia").
DIVISIONS: dict[Region, tuple[str, ...]] = {
    ("CA", "01"): ("Alberta", "AB"),
    ("CA", "02"): ("British Columbia", "BC"),
    ("CA", "03"): ("Manitoba", "MB"),
    ("CA", "04"): ("New Brunswick", "NB"),
    ("CA", "05"): ("Newfoundland and Labrador", "NL", "Newfoundland"),
    ("CA", "07"): ("Nova Scotia", "NS"),
    ("CA", "08"): ("Ontario", "ON"),
    ("CA", "09"): ("Prince Edward Island", "PE", "PEI"),
    ("CA", "10"): ("Quebec", "QC"),
    ("CA", "11"): ("Saskatchewan", "SK"),
    ("CA", "12"): ("Yukon", "YT"),
    ("CA", "13"): ("Northwest Territories", "NT"),
    ("CA", "14"): ("Nunavut", "NU"),
    ("AU", "01"): ("Australian Capital Territory", "ACT"),
    ("AU", "02"): ("New South Wales", "NSW"),
    ("AU", "03"): ("Northern Territory",),
    ("AU", "04"): ("Queensland", "QLD"),
    ("AU", "05"): ("South Australia",),
    ("AU", "06"): ("Tasmania", "TAS"),
    ("AU", "07"): ("Victoria", "VIC"),
    ("AU", "08"): ("Western Australia", "WA"),
    ("GB", "ENG"): ("England",),
    ("GB", "SCT"): ("Scotland",),
    ("GB", "WLS"): ("Wales",),
    ("GB", "NIR"): ("Northern Ireland",),
}
COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US",
    "us": "US",
    "u s": "US",
    "u s a": "US",
    "america": "US",
    "united states of america": "US",
    "uk": "GB",
    "u k": "GB",
    "britain": "GB",
    "great britain": "GB",
    "netherlands": "NL",
    "holland": "NL",
    "czech republic": "CZ",
    "korea": "KR",
    "uae": "AE",
    "east timor": "TL",
    "burma": "MM",
}
