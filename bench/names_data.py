"""Fifty hard full names with the first and last name a customer record should keep
(tests/test_names.py and bench/names_bench.py read the same list).

The truth is the person's: titles, credentials, nicknames and a maiden name are
no part of either name; particles and a generational suffix are part of the
last name; middle names go with the first. `DECIDED` lists where custdesk's
rule gives something else on purpose, and why (store/rules/names.py).
"""
from __future__ import annotations

HARD_NAMES: list[tuple[str, str | None, str | None]] = [
    # German
    ("Müller, Hans", "Hans", "Müller"),
    ("MÜLLER, Hans Peter", "Hans Peter", "MÜLLER"),
    ("Dr. Hans Müller", "Hans", "Müller"),
    ("Frau Prof. Dr. med. Anna Weber", "Anna", "Weber"),
    ("Herr Dipl.-Ing. Klaus Fischer", "Klaus", "Fischer"),
    ("Karl-Theodor von und zu Guttenberg", "Karl-Theodor", "von und zu Guttenberg"),
    ("Hans-Peter Müller-Lüdenscheidt", "Hans-Peter", "Müller-Lüdenscheidt"),
    ("Anna Schmidt geb. Müller", "Anna", "Schmidt"),
    ("Otto zur Linde", "Otto", "zur Linde"),
    ("Herr Müller", None, "Müller"),
    # Turkish
    ("Ayşe Yılmaz", "Ayşe", "Yılmaz"),
    ("Mehmet Ali Öztürk", "Mehmet Ali", "Öztürk"),
    ("Bay Ahmet Yılmaz", "Ahmet", "Yılmaz"),
    ("Bayan Ayşe Kaya", "Ayşe", "Kaya"),
    ("Doç. Dr. Zeynep Çelik", "Zeynep", "Çelik"),
    ("İbrahim Şahin", "İbrahim", "Şahin"),
    ("Mehmet Ali ÖZTÜRK", "Mehmet Ali", "ÖZTÜRK"),
    # French
    ("M. Jean Dupont", "Jean", "Dupont"),
    ("Mme Claire Martin", "Claire", "Martin"),
    ("DUPONT Jean-Pierre", "Jean-Pierre", "DUPONT"),
    ("Charles d'Artagnan", "Charles", "d'Artagnan"),
    ("Antoine de Saint-Exupéry", "Antoine", "de Saint-Exupéry"),
    ("Marine Le Pen", "Marine", "Le Pen"),
    # Dutch
    ("Jan van der Berg", "Jan", "van der Berg"),
    ("Dhr. Jan de Vries", "Jan", "de Vries"),
    ("Mevr. A. de Vries-Jansen", "A.", "de Vries-Jansen"),
    ("Pieter-Jan 't Hooft", "Pieter-Jan", "'t Hooft"),
    ("Jan ten Brink", "Jan", "ten Brink"),
    ("van Gogh, Vincent", "Vincent", "van Gogh"),
    ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
    # Spanish
    ("María José García López", "María José", "García López"),
    ("García López, María José", "María José", "García López"),
    ("Juan de la Cruz", "Juan", "de la Cruz"),
    ("Sra. María López", "María", "López"),
    ("José Ortega y Gasset", "José", "Ortega y Gasset"),
    # English: titles, suffixes, credentials, initials, nicknames
    ("Martin Luther King Jr.", "Martin Luther", "King Jr."),
    ("John Smith III", "John", "Smith III"),
    ("Jane Doe, PhD", "Jane", "Doe"),
    ("Peter Meier MBA", "Peter", "Meier"),
    ("Ronald McDONALD", "Ronald", "McDONALD"),
    ("J. R. R. Tolkien", "J. R. R.", "Tolkien"),
    ("Robert (Bob) Smith", "Robert", "Smith"),
    ("Sir Elton John", "Elton", "John"),
    ("O'Brien, Seán", "Seán", "O'Brien"),
    ("Smith, John, Jr.", "John", "Smith Jr."),
    # A single word, extra spaces, all capitals, all lower case
    ("Madonna", "Madonna", None),
    ("  Anna    Schmidt  ", "Anna", "Schmidt"),
    ("JEAN-PIERRE DUPONT", "JEAN-PIERRE", "DUPONT"),
    ("hans müller", "hans", "müller"),
    ("Ms. Jane   Doe-Smith", "Jane", "Doe-Smith"),
]

# Where the rule differs from the truth on purpose: (what it gives, why).
DECIDED: dict[str, tuple[tuple[str | None, str | None], str]] = {
    "María José García López": (("María José García", "López"),
                                "without a comma the last word is the family name: two family names would cost "
                                "'Mehmet Ali Öztürk' and 'Juan Carlos Pérez' theirs"),
}
