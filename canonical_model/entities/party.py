"""Parties (people and organisations), their identifiers and contact points."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from canonical_model.entities.common import (
    CanonicalModel,
    LandlineE164,
    MobileE164,
    RegionCode,
    Sensitivity,
    Validity,
    pii,
)
from canonical_model.names import normalise_name
from canonical_model.organisations import infer_kind, looks_like_person_name


class PartyKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


# The forms of address that say the sex of who is addressed (王先生, 李女士, 张小姐, 刘太太, 陈夫人).
TITLE_GENDERS = {"先生": Gender.MALE, "女士": Gender.FEMALE, "小姐": Gender.FEMALE, "太太": Gender.FEMALE,
                 "夫人": Gender.FEMALE}  # fmt: skip


class IdentifierType(StrEnum):
    RESIDENT_ID = "resident_id"  # GB 11643 18-character form (15-digit input is upgraded)
    USCC = "uscc"  # GB 32100 unified social credit code
    PASSPORT = "passport"
    HMT_PERMIT = "hmt_permit"  # Mainland travel permit for HK/Macau/Taiwan residents
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"  # residence permit, 81/82/83 prefix, GB 11643 algorithm
    ORG_CODE = "org_code"  # GB 11714 legacy organisation code: characters 9–17 of the company's USCC


class PersonName(CanonicalModel):
    """A name as received plus the keys matching needs; the keys are derived, never typed in."""

    raw: str = pii()  # type: ignore[assignment]
    simplified: str = ""
    surname: str = ""
    given: str = ""
    pinyin: str = ""
    title: str | None = None  # 王先生: surname and title only — evidence only beside a phone or a car

    @classmethod
    def from_raw(cls, raw: str, order: str = "auto") -> PersonName:
        n = normalise_name(raw, order)
        return cls(raw=raw, simplified=n.simplified, surname=n.surname, given=n.given, pinyin=n.pinyin,
                   title=n.title or None)  # fmt: skip


class Identifier(CanonicalModel):
    """An identity document number.

    Resident IDs and USCCs are sensitive (PIPL Art. 28): the clear value travels only from the mapping to the
    store, which keeps a keyed hash for matching and a masked form for display.
    """

    type: IdentifierType
    value: str = pii(Sensitivity.SENSITIVE)  # type: ignore[assignment]
    masked: str = ""
    upgraded_from_15: bool = False
    verified: bool = False
    issuing_country: str = "CN"


class ContactKind(StrEnum):
    MOBILE = "mobile"
    EMAIL = "email"
    ADDRESS = "address"
    WECHAT = "wechat"
    LANDLINE = (
        "landline"  # E.164 without the trunk 0 (+862088880900); a company is reached on its switchboard
    )


class PostalAddress(CanonicalModel):
    region_code: RegionCode | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    street: str = pii()  # type: ignore[assignment]
    postcode: str | None = Field(default=None, pattern=r"^\d{6}$")


class ContactPoint(Validity):
    kind: ContactKind
    mobile: MobileE164 | None = pii(default=None)  # type: ignore[assignment]
    email: str | None = pii(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # type: ignore[assignment]
    address: PostalAddress | None = None
    wechat_id: str | None = pii(default=None)  # type: ignore[assignment]
    landline: LandlineE164 | None = pii(default=None)  # type: ignore[assignment]
    extension: str | None = Field(default=None, pattern=r"^\d{1,6}$")  # a landline's 转123
    is_placeholder: bool = False  # a dealer's "13800000000": never evidence for matching
    verified: bool = False

    @model_validator(mode="after")
    def _value_matches_kind(self) -> ContactPoint:
        present = {
            ContactKind.MOBILE: self.mobile, ContactKind.EMAIL: self.email,
            ContactKind.ADDRESS: self.address, ContactKind.WECHAT: self.wechat_id,
            ContactKind.LANDLINE: self.landline,
        }  # fmt: skip
        if present[self.kind] is None:
            raise ValueError(f"a {self.kind.value} contact point needs its {self.kind.value} value")
        return self


# Han person names are 2-4 characters, 5 for a few double surnames; minority names longer than that are
# written with a middle dot, which infer_kind already excludes.
_LONGEST_PERSON_NAME = 6


def _han_length(text: str) -> int:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")


class Party(CanonicalModel):
    """A person or an organisation as one source system knows it."""

    kind: PartyKind
    name: PersonName | None = None
    organisation_name: str | None = None
    gender: Gender = Gender.UNKNOWN
    birth_date: date | None = pii(default=None)  # type: ignore[assignment]
    region_code: RegionCode | None = None
    identifiers: list[Identifier] = Field(default_factory=list)
    contact_points: list[ContactPoint] = Field(default_factory=list)
    kind_rule: str | None = Field(
        default=None,
        description="why the kind was inferred from the name (the source did not say, or said wrong)",
    )

    @model_validator(mode="before")
    @classmethod
    def _infer_kind(cls, data: Any) -> Any:
        """A source without a party kind (``kind`` left out or ``infer``) gets it from the name; a "person"
        whose name carries a legal form (…有限公司, Co., Ltd.) is an organisation, whatever the source said —
        a DMS front desk's default customer type is no evidence against the company's registered name. So is
        a "person" whose name has an organisation's keyword, trade or place and is longer than a Han person's
        name (上海 市东升物业管理, 杭州滨江区久隆便利店): the legal form is what front desks leave out. And an
        "organisation" whose name can only be a person's (诸葛敏鹏, 崔晓, 王先生: ``looks_like_person_name``) is
        a person: a customer-type column left on 单位 is no evidence against a name no company registers."""
        if not isinstance(data, dict):
            return data
        kind = data.get("kind")
        name = data.get("name")
        raw = name.get("raw") if isinstance(name, dict) else getattr(name, "raw", None)
        written = data.get("organisation_name") or raw
        if kind in (None, "", "infer"):
            evidence = infer_kind(written)
            data = {**data, "kind": PartyKind.ORGANISATION if evidence else PartyKind.PERSON}
            if evidence is None:
                return data
            rule = evidence.rule
        elif kind in (PartyKind.ORGANISATION, "organisation") and not raw and looks_like_person_name(written):
            return {**data, "kind": PartyKind.PERSON, "name": PersonName.from_raw(str(written)).model_dump(),
                    "organisation_name": None, "kind_rule": "person_name (the source said organisation)"}  # fmt: skip
        elif (
            kind in (PartyKind.PERSON, "person") and raw and (evidence := infer_kind(raw))
            and (evidence.strong or _han_length(raw) >= _LONGEST_PERSON_NAME)
        ):  # fmt: skip
            rule = f"{evidence.rule} (the source said person)"
        else:
            return data
        data = {**data, "kind": PartyKind.ORGANISATION, "organisation_name": written, "kind_rule": rule}
        for personal in ("name", "gender", "birth_date"):
            data.pop(personal, None)
        return data

    @model_validator(mode="after")
    def _gender_from_title(self) -> Party:
        """王先生 is a man and 李女士 a woman: where the source gave no gender, the form of address says it (a
        title like 总 or 师傅 says nothing). Matching then keeps 王先生 apart from the wife whose phone he used."""
        if self.gender is Gender.UNKNOWN and self.name is not None and self.name.title:
            said = TITLE_GENDERS.get(self.name.title)
            if said is not None:
                self.gender = said
        return self

    @model_validator(mode="after")
    def _named(self) -> Party:
        if self.kind is PartyKind.PERSON and self.name is None:
            raise ValueError("a person needs a name")
        if self.kind is PartyKind.ORGANISATION and not self.organisation_name:
            raise ValueError("an organisation needs organisation_name")
        return self
