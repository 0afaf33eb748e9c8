"""Word lists shipped as package data (`hf_finegrained/data/negatives_*.txt`) and their lookup tables.

Each list is grouped into categories (colour, material, animal, vehicle, spatial, ...) and, inside a category,
into clusters of near-synonyms. A replacement is drawn from the same category but another cluster, so
"red" becomes "blue" (never "maroon" for "red", never "sofa" for "couch").

Two marks add what the filters of `filters/` read: a noun written `rice/-` has no plural (a mass noun:
"eating rice" never becomes "eating apple"), and a verb category may declare its frame,
`category [subject classes > object classes]: ...`, the noun classes (`noun_class`) its subject and object
may be ("ride [person > animal vehicle sports]"), so that a verb is replaced only where the new one fits the
same subject and object. A verb may be listed in several categories (`WordList.senses`): it is read as one of
the first category whose frame fits the caption ("ride" of a bike is steering, of a horse is mounting), so a
verb can be a replacement in a category it is never read in ("dress: wear | hold" turns "wearing a hat" into
"holding a hat", while "holding a cup" fits the frame of handling first and never becomes "wearing a cup").

The filters' own data, the properties of noun classes and nouns (which are swapped, replaced, ridden, attached,
their usual colours...) and the attribute, relation and verb word sets, are two more files
(`negatives_classes.txt`, `negatives_words.txt`) of `name: a | b` lines, read into `Lexicon.rules` (`RuleSets`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

DATA_PACKAGE = "hf_finegrained"
LIST_FILES = {
    "adjectives": "negatives_adjectives.txt",
    "nouns": "negatives_nouns.txt",
    "relations": "negatives_relations.txt",
    "verbs": "negatives_verbs.txt",
}
# The filters' data: noun classes and their properties, word sets, relation and verb rules (`RuleSets`).
RULE_FILES = ("negatives_classes.txt", "negatives_words.txt")
VERB_SLOTS = ("base", "third", "past", "gerund", "participle")
# Penn Treebank verb tag -> the slot of the verb's forms it takes.
VERB_TAG_SLOT = {"VB": "base", "VBP": "base", "VBZ": "third", "VBD": "past", "VBN": "participle", "VBG": "gerund"}
_VOWELS = set("aeiou")


@dataclass(frozen=True)
class Entry:
    """A word or phrase of a list: its category, its synonym cluster (an int), its forms, and for nouns whether
    it is a mass noun (no plural)."""

    category: str
    cluster: int
    forms: tuple[str, ...]
    mass: bool = False


@dataclass(frozen=True)
class Frame:
    """The noun classes a verb category's subject and object may be (empty `objects`: intransitive)."""

    subjects: frozenset[str]
    objects: frozenset[str]


@dataclass
class WordList:
    """One list: `lookup` maps a lower-case form to (entry, slot); `clusters` holds entries per category."""

    name: str
    slots: tuple[str, ...]
    lookup: dict[str, tuple[Entry, int]] = field(default_factory=dict)
    # every listing of a form, in file order (verbs may be listed in several categories; `lookup` has the first)
    senses: dict[str, list[tuple[Entry, int]]] = field(default_factory=dict)
    clusters: dict[str, list[list[Entry]]] = field(default_factory=dict)
    frames: dict[str, Frame] = field(default_factory=dict)  # verbs: category -> its frame, when declared

    _alternatives: dict[Entry, list[Entry]] = field(default_factory=dict, repr=False)
    _position: dict[Entry, int] = field(default_factory=dict, repr=False)  # where each entry is written

    def alternatives(self, entry: Entry) -> list[Entry]:
        """The entries of the same category outside `entry`'s cluster, in the order they are written (cached):
        a cluster joined to an earlier one (`~`) keeps its words' places, so the seeded draws of other words
        do not change."""
        found = self._alternatives.get(entry)
        if found is None:
            found = self._alternatives[entry] = sorted(
                (other for index, cluster in enumerate(self.clusters[entry.category]) if index != entry.cluster
                 for other in cluster), key=lambda other: self._position[other])
        return found


class RuleSets(dict[str, frozenset[str]]):
    """The named sets the filters read (`negatives_classes.txt`, `negatives_words.txt`): `rules[name]` (also
    `sets[name]`) holds the members of a line `name: a | b | c`, and `maps[name][key]` those of a line
    `name.key: a | b`.

    The sets are the dict's own items, so `rules[name]`, read a few dozen times per caption by the filters, is a
    plain dict lookup; a missing name raises a `KeyError` saying where it should be defined (`__missing__`)."""

    def __init__(self) -> None:
        super().__init__()
        self.maps: dict[str, dict[str, frozenset[str]]] = {}
        self.order: dict[str, tuple[str, ...]] = {}  # a set's members in the order written
        self.sources: dict[str, str] = {}  # name -> "file line N", for messages

    @property
    def sets(self) -> dict[str, frozenset[str]]:
        """The named sets (this dict itself)."""
        return self

    def __missing__(self, name: str) -> frozenset[str]:
        raise KeyError(f"no rule set {name!r} in the lexicon's {' or '.join(RULE_FILES)}; the filters need it")

    def __repr__(self) -> str:
        return f"RuleSets({len(self)} sets, {len(self.maps)} maps)"

    def ordered(self, name: str) -> tuple[str, ...]:
        """The members of set `name` in the order they are written (where the order is a draw's order)."""
        self[name]
        return self.order[name]

    def map(self, name: str) -> dict[str, frozenset[str]]:
        found = self.maps.get(name)
        if found is None:
            raise KeyError(f"no rule map {name!r} (lines `{name}.<key>: ...`) in the lexicon's {' or '.join(RULE_FILES)}")
        return found


def parse_rule_sets(text: str, source: str = "<text>", into: RuleSets | None = None) -> RuleSets:
    """Parses `name: a | b | c` and `name.key: a | b` lines (comments start with #; a line starting with
    whitespace and `|` continues the previous one) into `RuleSets` (`into`, when given)."""
    rules = into if into is not None else RuleSets()
    lines: list[tuple[int, str, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0]
        if not line.strip():
            continue
        if line[:1].isspace() and line.strip().startswith("|"):
            if not lines:
                raise ValueError(f"{source} line {number}: a continuation `| ...` before any `name: ...` line")
            first, raw_first, body = lines[-1]
            lines[-1] = (first, raw_first, body + " " + line.strip())
            continue
        lines.append((number, raw, line.strip()))
    for number, raw, line in lines:
        name, sep, body = line.partition(":")
        name, _, key = name.strip().partition(".")
        key = " ".join(key.split())
        where = f"{source} line {number}"
        if not sep or not name or " " in name or ("." in line.partition(":")[0] and not key):
            raise ValueError(f"{where}: expected `name: word | word ...` or `name.key: word | ...`, got {raw!r}")
        written = tuple(dict.fromkeys(" ".join(item.split()).lower() for item in body.split("|") if item.strip()))
        members = frozenset(written)
        if key:
            entries = rules.maps.setdefault(name, {})
            if key in entries:
                raise ValueError(f"{where}: {name}.{key} is defined twice")
            entries[key] = members
        else:
            if name in rules.sets:
                raise ValueError(f"{where}: {name!r} is defined twice (first at {rules.sources[name]})")
            rules.sets[name] = members
            rules.order[name] = written
        rules.sources.setdefault(name, where)
    return rules


@dataclass
class Lexicon:
    """The four lists the rules use, and the filters' sets (`rules`)."""

    adjectives: WordList
    nouns: WordList
    relations: WordList
    verbs: WordList
    rules: RuleSets = field(default_factory=RuleSets)

    def noun_class(self, entry: Entry) -> str:
        """The class the filters read: the noun's category without the kind of a `class.kind` category, and
        `person` for every category of people (`person_categories` of negatives_classes.txt)."""
        found = self._classes.get(entry.category)
        if found is None:
            category = entry.category.partition(".")[0]
            found = self._classes[entry.category] = (
                "person" if category in self.rules["person_categories"] else category)
        return found

    def by_noun(self, name: str, entry: Entry | None, prefix: str = "") -> frozenset[str] | None:
        """The members of the first line `name.<prefix><key>` whose key is listed noun `entry` (its singular), its
        category (with its kind), its class, or `*` (a noun the lists do not know, `entry` None, takes `*` only);
        None when the map has no such line (`palette.colour.animal: ...`: `by_noun("palette", cat, "colour.")`)."""
        cache_key = (name, prefix, entry)
        found = self._by_noun.get(cache_key, False)
        if found is False:
            lines = self.rules.map(name)
            keys = ("*",) if entry is None else (entry.forms[0], entry.category, self.noun_class(entry), "*")
            found = self._by_noun[cache_key] = next(
                (lines[prefix + key] for key in keys if prefix + key in lines), None)
        return found

    def key_of(self, name: str, member: str) -> str | None:
        """The key of the line of map `name` that holds `member` (`way.road: car | bus` -> "road" for "car")."""
        inverse = self._inverse.get(name)
        if inverse is None:
            inverse = self._inverse[name] = {word: key for key, members in self.rules.map(name).items()
                                             for word in members}
        return inverse.get(member)

    @functools.cached_property
    def verb_objects(self) -> dict[str, frozenset[str]]:
        """What a verb's object may be (`takes.<verb>` of negatives_classes.txt), by every form of the verb."""
        return {form: members for key, members in self.rules.map("takes").items()
                for form in _forms(key, "verbs")}

    @functools.cached_property
    def mutual_verb_forms(self) -> frozenset[str]:
        """Every form of the verbs of a mutual action (`mutual_verbs` of negatives_words.txt)."""
        return frozenset(form for item in self.rules["mutual_verbs"] for form in _forms(item, "verbs"))

    @functools.cached_property
    def fixed_phrases_by_word(self) -> dict[str, tuple[str, ...]]:
        """The `fixed_attribute_phrases` holding each of their words (split at spaces and hyphens)."""
        found: dict[str, list[str]] = {}
        for phrase in self.rules["fixed_attribute_phrases"]:
            for word in phrase.replace("-", " ").split():
                found.setdefault(word, []).append(phrase)
        return {word: tuple(phrases) for word, phrases in found.items()}

    @functools.cached_property
    def _by_noun(self) -> dict:
        return {}

    @functools.cached_property
    def derived(self) -> dict[str, dict]:
        """Tables the rules derive from this lexicon alone, by name (e.g. a noun's admissible replacements): kept
        on the instance, so they follow it and are bounded by its entries."""
        return {}

    @functools.cached_property
    def _inverse(self) -> dict[str, dict[str, str]]:
        return {}

    @functools.cached_property
    def _classes(self) -> dict[str, str]:
        return {}

    @functools.cached_property
    def relation_first_words(self) -> frozenset[str]:
        return frozenset(form.split()[0] for form in self.relations.lookup)

    @functools.cached_property
    def relation_widths(self) -> dict[str, tuple[int, ...]]:
        """{first word: the numbers of words of the listed relation phrases it starts, longest first}: the widths a
        phrase starting at a token can have (`phrases._relation_spans` tries those only)."""
        widths: dict[str, set[int]] = {}
        for form in self.relations.lookup:
            words = form.split(" ")
            widths.setdefault(words[0], set()).add(len(words))
        return {first: tuple(sorted(found, reverse=True)) for first, found in widths.items()}

    @functools.cached_property
    def words(self) -> frozenset[str]:
        """Every single word of the four lists' forms (the language screen counts them as English)."""
        return frozenset(word for listed in (self.adjectives, self.nouns, self.relations, self.verbs)
                         for form in listed.lookup for word in form.split())


def pluralize(noun: str) -> str:
    """Regular English plural of a noun (or of the last word of a phrase)."""
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and len(noun) > 1 and noun[-2] not in _VOWELS:
        return noun[:-1] + "ies"
    return noun + "s"


def inflect_verb(base: str) -> tuple[str, str, str, str, str]:
    """Regular forms (base, 3rd singular, past, gerund, participle) of a verb."""
    if base.endswith(("s", "x", "z", "ch", "sh")):
        third = base + "es"
    elif base.endswith("y") and base[-2] not in _VOWELS:
        third = base[:-1] + "ies"
    else:
        third = base + "s"
    double = (len(base) >= 3 and base[-1] not in _VOWELS | set("wxy") and base[-2] in _VOWELS
              and base[-3] not in _VOWELS and sum(ch in _VOWELS for ch in base) == 1)
    stem = base + base[-1] if double else base
    if base.endswith("e") and not base.endswith(("ee", "ye", "oe")):
        gerund, past = base[:-1] + "ing", base + "d"
    elif base.endswith("y") and base[-2] not in _VOWELS:
        gerund, past = base + "ing", base[:-1] + "ied"
    else:
        gerund, past = stem + "ing", stem + "ed"
    return base, third, past, gerund, past


def _forms(item: str, list_name: str) -> tuple[str, ...]:
    parts = tuple(part.strip().lower() for part in item.split("/"))
    if list_name == "nouns":
        if len(parts) > 2:
            raise ValueError(f"noun entry {item!r}: expected `singular`, `singular/plural` or `mass/-`")
        if len(parts) == 2 and parts[1] == "-":
            return parts[0], parts[0]
        return parts if len(parts) == 2 else (parts[0], pluralize(parts[0]))
    if list_name == "verbs":
        if len(parts) not in (1, 5):
            raise ValueError(f"verb entry {item!r}: expected `base` or five forms joined by `/`")
        return parts if len(parts) == 5 else inflect_verb(parts[0])
    return (parts[0],)


def parse_word_list(text: str, name: str, source: str = "<text>") -> WordList:
    """Parses `category: a=b | c | d~a` lines (comments start with #) into a `WordList`: `=` joins near-synonyms
    into a cluster, and `~a` joins a cluster to the earlier one of `a` while keeping its words' places."""
    slots = {"nouns": ("singular", "plural"), "verbs": VERB_SLOTS}.get(name, ("word",))
    words = WordList(name=name, slots=slots)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        category, sep, body = line.partition(":")
        if not sep or not body.strip():
            raise ValueError(f"{source} line {number}: expected `category: word | word ...`, got {raw!r}")
        category, frame = _category_and_frame(category, name, source, number)
        if frame is not None:
            words.frames[category] = frame
        clusters = words.clusters.setdefault(category, [])
        for cluster_text in body.split("|"):
            cluster_text, tilde, joined = cluster_text.partition("~")
            index = len(clusters)
            if tilde:  # `a=b~c`: a and b are near-synonyms of c, listed earlier in this category
                known = words.lookup.get(joined.strip().lower())
                if known is None or known[0].category != category:
                    raise ValueError(f"{source} line {number}: `~{joined.strip()}` must name a word listed earlier "
                                     f"in category {category!r}")
                index = known[0].cluster
            cluster: list[Entry] = []
            for item in cluster_text.split("="):
                if not item.strip():
                    continue
                mass = name == "nouns" and item.strip().endswith("/-")
                entry = Entry(category, index, _forms(item, name), mass)
                for slot, form in enumerate(entry.forms):
                    known = words.lookup.get(form)
                    if known is not None and known[0].category != category and name != "verbs":  # see senses
                        raise ValueError(f"{source} line {number}: {form!r} is already in category "
                                         f"{known[0].category!r}")
                    words.lookup.setdefault(form, (entry, slot))
                    listed = words.senses.setdefault(form, [])
                    if all(known_entry.category != category for known_entry, _ in listed):
                        listed.append((entry, slot))
                words._position.setdefault(entry, len(words._position))
                cluster.append(entry)
            if cluster and tilde:
                clusters[index].extend(cluster)
            elif cluster:
                clusters.append(cluster)
    return words


def _category_and_frame(text: str, list_name: str, source: str, number: int) -> tuple[str, Frame | None]:
    """`category` or, for verbs, `category [subjects > objects]`."""
    category, bracket, rest = text.partition("[")
    if not bracket:
        return text.strip(), None
    if list_name != "verbs" or not rest.strip().endswith("]"):
        raise ValueError(f"{source} line {number}: a frame `[subjects > objects]` is only allowed on verb categories")
    subjects, _, objects = rest.strip()[:-1].partition(">")
    return category.strip(), Frame(frozenset(subjects.split()), frozenset(objects.split()))


@functools.lru_cache(maxsize=4)
def load_lexicon(folder: str | None = None) -> Lexicon:
    """The shipped lists, or same-named files from `folder` (to extend or translate them)."""
    lists = {}
    for name, filename in LIST_FILES.items():
        if folder is None:
            text = resources.files(DATA_PACKAGE).joinpath("data", filename).read_text(encoding="utf-8")
            source = f"package data {filename}"
        else:
            path = Path(folder) / filename
            text, source = path.read_text(encoding="utf-8"), str(path)
        lists[name] = parse_word_list(text, name, source)
    rules = RuleSets()
    for filename in RULE_FILES:
        if folder is None:
            text = resources.files(DATA_PACKAGE).joinpath("data", filename).read_text(encoding="utf-8")
            source = f"package data {filename}"
        else:
            path = Path(folder) / filename
            text, source = path.read_text(encoding="utf-8"), str(path)
        parse_rule_sets(text, source, rules)
    return Lexicon(**lists, rules=rules)
