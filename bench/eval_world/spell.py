"""How a source writes a person's name, a phone, an ID number or a company name — with its defects."""

from __future__ import annotations

from dataclasses import dataclass

from bench.eval_world import ids
from bench.eval_world.extract import Dice
from bench.eval_world.names import familiar, name_typo, romanise, traditional, with_title
from bench.eval_world.orgnames import spelled
from bench.eval_world.world import Org, Person

FAKE_MOBILE = "13800138000"


@dataclass(frozen=True)
class NameRates:
    typo: float = 0.0
    traditional: float = 0.0
    romanised: float = 0.0
    title: float = 0.0
    familiar: float = 0.0


def person_name(d: Dice, p: Person, rates: NameRates) -> str:
    if d.hit(rates.title, "title_only_name"):
        return with_title(d.rng, p.surname, p.male)
    if d.hit(rates.familiar, "familiar_name"):
        return familiar(d.rng, p.surname)
    if rates.romanised and d.rng.random() < rates.romanised:
        text, tag = romanise(d.rng, p.surname, p.given, p.male)
        d.tags.append(tag)
        return text
    name = p.name
    if rates.typo and d.rng.random() < rates.typo:
        typo = name_typo(d.rng, p.surname, p.given)
        if typo:
            d.tags.append("name_typo")
            name = typo
    if d.hit(rates.traditional, "traditional"):
        name = traditional(name)
    return name


def mobile(d: Dice, number: str, *, fake: float = 0.0, typo: float = 0.0, dealer: str | None = None,
           dealer_rate: float = 0.0) -> str:  # fmt: skip
    if d.hit(fake, "fake_mobile"):
        return FAKE_MOBILE
    if dealer and d.hit(dealer_rate, "dealer_mobile_for_customer"):
        return dealer
    if d.hit(typo, "mobile_typo"):
        number = ids.mobile_typo(d.rng, number)
    text, form = ids.write_mobile(d.rng, number)
    if form:
        d.tags.append(form)
    return text


def landline(d: Dice, org: Org) -> str:
    d.tags.append("landline")
    return ids.write_landline(d.rng, org.landline, org.ext)


def resident_id(d: Dice, p: Person, *, typo: float = 0.0, old15: float = 0.0) -> str:
    if d.hit(typo, "rid_typo"):
        return ids.rid_typo(d.rng, p.rid)
    if p.born.year < 1985 and d.hit(old15, "rid_15"):
        return ids.to_15(p.rid)
    return p.rid if d.rng.random() < 0.95 else p.rid.lower()


def org_name(d: Dice, org: Org, source: str) -> str:
    text, tags = spelled(d.rng, org.name, source)
    d.tags.extend(tags)
    return text


def org_code_text(d: Dice, org: Org) -> str:
    d.tags.append("legacy_org_code")
    code = org.org_code
    return f"{code[:8]}-{code[8]}" if d.rng.random() < 0.6 else code


def vin_text(d: Dice, vin: str, rates: dict[str, float]) -> str:
    """A VIN as typed; ``rates`` gives each defect kind (see ids.vin_defect) its probability."""
    for kind, rate in rates.items():
        if d.rng.random() < rate and ids.vin_defect_possible(vin, kind):
            d.tags.append(kind)
            return ids.vin_defect(d.rng, vin, kind)
    return vin
