"""Cars of the world: who bought each one new, resales (some seen only at a dealer), plates and plate changes."""

from __future__ import annotations

import random
from datetime import date, timedelta

from bench.eval_world import ids
from bench.eval_world.world import (
    EPOCH,
    FLEET_MODELS,
    MODELS,
    PLANTS,
    TODAY,
    Car,
    Dealer,
    Org,
    Ownership,
    Person,
    World,
    _day,
    make_dealers,
    make_orgs,
    make_persons,
    plate_for,
)

CARS_PER_ORG = {"company": (1, 3), "fleet": (8, 30), "branch": (1, 4), "shop": (1, 1), "public": (2, 5)}
RESALE_RATE = 0.12
FLEET_RESALE_RATE = 0.20
SECOND_RESALE_RATE = 0.15
DEALER_ONLY_RESALE = 0.40  # share of resales whose new owner is seen only on repair orders
STOCK_RATE = 0.03  # built and in the ERP, never sold


def _dealer_in(rng: random.Random, dealers: list[Dealer], city_name: str) -> Dealer:
    local = [d for d in dealers if d.city.name == city_name]
    return rng.choice(local if local and rng.random() < 0.9 else dealers)


def _electric(matnr: str) -> bool:
    return "BEV" in matnr or "PHEV" in matnr


def make_cars(
    rng: random.Random, persons: dict[str, Person], orgs: dict[str, Org], dealers: list[Dealer]
) -> list[Car]:
    buyers: list[tuple[str, str]] = []  # (entity id, model)
    for p in persons.values():
        n = rng.choices((0, 1, 2), weights=(38, 52, 10))[0]
        buyers += [(p.id, rng.choice(list(MODELS))) for _ in range(n)]
    for o in orgs.values():
        low, high = CARS_PER_ORG[o.kind]
        for _ in range(rng.randint(low, high)):
            buyers.append((o.id, rng.choice(FLEET_MODELS) if o.kind == "fleet" else rng.choice(list(MODELS))))
    rng.shuffle(buyers)
    serials = {"H": 100000, "N": 500000}
    cars: list[Car] = []

    def city_of(entity: str) -> str:
        return (persons[entity] if entity in persons else orgs[entity]).city.name

    resale_buyers = [p for p in persons if rng.random() < 0.5]
    for entity, matnr in buyers + [
        ("", rng.choice(list(MODELS))) for _ in range(int(len(buyers) * STOCK_RATE))
    ]:
        wmi, vds, _, _ = MODELS[matnr]
        sold = _day(rng, EPOCH, TODAY - timedelta(days=60)) if entity else None
        produced = (sold or _day(rng, date(2024, 1, 1), TODAY)) - timedelta(days=rng.randrange(20, 120))
        year = produced.year + (1 if produced.month >= 9 and rng.random() < 0.5 else 0)
        plant = PLANTS[wmi]
        serials[plant] += 1
        car = Car(ids.make_vin(rng, wmi, vds, min(year, 2024), plant, serials[plant]), matnr, produced)
        cars.append(car)
        if not entity or sold is None:
            continue
        dealer = _dealer_in(rng, dealers, city_of(entity))
        car.owners.append(Ownership(entity, sold, dealer, plate_for(rng, dealer.city, _electric(matnr))))
        rate = FLEET_RESALE_RATE if entity in orgs and orgs[entity].kind == "fleet" else RESALE_RATE
        since = sold
        while (rng.random() < rate) and (TODAY - since).days > 400:
            since = _day(rng, since + timedelta(days=365), TODAY - timedelta(days=30))
            if rng.random() < 0.85 or not orgs:
                new_owner = rng.choice(resale_buyers)
            else:
                new_owner = rng.choice([o for o in orgs if orgs[o].kind == "company"] or list(orgs))
            if new_owner == car.owners[-1].entity:
                break
            new_dealer = _dealer_in(rng, dealers, city_of(new_owner))
            plate = car.owners[-1].plate
            if new_dealer.city != car.owners[-1].dealer.city:
                plate = plate_for(rng, new_dealer.city, _electric(matnr))
            car.owners.append(Ownership(new_owner, since, new_dealer, plate))
            rate = SECOND_RESALE_RATE
        if car.resold:
            car.dealer_only_resale = rng.random() < DEALER_ONLY_RESALE
        # The current owner re-registered the car: a new plate; older extracts still show the old one.
        if rng.random() < 0.08:
            car.old_plate = car.owners[-1].plate
            car.owners[-1].plate = plate_for(rng, car.owners[-1].dealer.city, _electric(matnr))
    return cars


def generate_world(seed: int = 7, scale: float = 1.0) -> World:
    """≈ 4 000 persons and 400 organisations at scale 1, deterministic for a seed."""
    rng = random.Random(seed)
    persons = make_persons(rng, max(int(4000 * scale), 20))
    orgs = make_orgs(rng, max(int(400 * scale), 8), persons)
    dealers = make_dealers(rng)
    cars = make_cars(rng, persons, orgs, dealers)
    return World(seed, persons, orgs, dealers, cars)
