"""The five shipped mappings on records shaped like each source's real payloads."""

from __future__ import annotations

from typing import Any

import pytest

from canonical_model.entities import SourceRecord
from core.errors import MappingError, ValidationFailed
from mappings import MappedRecord, MappingRegistry

REGISTRY = MappingRegistry.load()


def _map(source: str, stream: str, payload: dict[str, Any]) -> MappedRecord:
    mapper = REGISTRY[source]
    source_id = mapper.source_id_of(stream, payload) or "?"
    return mapper.map(SourceRecord(source=source, stream=stream, source_id=source_id, payload=payload))


def _one(mapped: MappedRecord, entity_type: str) -> dict[str, Any]:
    bodies = [e.body for e in mapped.entities if e.entity_type == entity_type]
    assert len(bodies) == 1, [e.entity_type for e in mapped.entities]
    return bodies[0]


ERP_CUSTOMER = {
    "KUNNR": "C00000042", "KTOKD": "P", "NAME1": "张伟", "SEX": "1", "GBDAT": "19491231",
    "ID_TYPE": "RIC", "ID_NO": "11010519491231002X", "MOBILE": "138 1234 5678", "EMAIL": "Wei.Zhang@Example.cn",
    "REGIO": "110105", "STRAS": "北京市朝阳区建国路88号", "CHANGED_AT": "2024-03-01T10:00:00+08:00",
}  # fmt: skip


def test_erp_customer_becomes_a_person() -> None:
    mapped = _map("erp", "customers", ERP_CUSTOMER)
    (entity,) = mapped.entities
    assert (entity.entity_type, entity.entity_key) == ("party", "C00000042")
    party = entity.body
    assert party["kind"] == "person"
    assert party["name"]["simplified"] == "张伟"
    assert party["name"]["pinyin"] == "zhang wei"
    assert party["gender"] == "male"
    assert party["birth_date"] == "1949-12-31"
    assert party["identifiers"] == [
        {"type": "resident_id", "value": "11010519491231002X", "masked": "", "upgraded_from_15": False,
         "verified": False, "issuing_country": "CN"},
    ]  # fmt: skip
    kinds = {c["kind"]: c for c in party["contact_points"]}
    assert kinds["mobile"]["mobile"] == "+8613812345678"
    assert kinds["email"]["email"] == "wei.zhang@example.cn"
    assert kinds["address"]["address"]["street"] == "北京市朝阳区建国路88号"
    assert mapped.warnings == []


def test_erp_organisation_by_account_group() -> None:
    payload = {**ERP_CUSTOMER, "KTOKD": "O", "NAME1": "上海明达物流有限公司", "ID_TYPE": "USCC",
               "ID_NO": "91350100M000100Y43", "SEX": "", "GBDAT": ""}  # fmt: skip
    party = _one(_map("erp", "customers", payload), "party")
    assert party["kind"] == "organisation"
    assert party["organisation_name"] == "上海明达物流有限公司"
    assert "name" not in party
    assert party["identifiers"][0]["type"] == "uscc"


@pytest.mark.parametrize(("source", "code", "gender"), [
    ("erp", "1", "male"), ("erp", "2", "female"), ("insurance", "M", "male"), ("insurance", "F", "female"),
    ("dms", "男", "male"), ("dms", "女", "female"), ("dms", "", "unknown"),
])  # fmt: skip
def test_gender_code_tables(source: str, code: str, gender: str) -> None:
    payloads = {
        "erp": ("customers", {**ERP_CUSTOMER, "SEX": code}),
        "insurance": (
            "policies",
            {**INSURANCE_POLICY, "holder": {**INSURANCE_POLICY["holder"], "gender": code}},
        ),
        "dms": ("lead", {**DMS_LEAD, "customer": {**DMS_LEAD["customer"], "gender": code}}),
    }
    stream, payload = payloads[source]
    assert _one(_map(source, stream, payload), "party")["gender"] == gender


def test_missing_required_field_names_the_field() -> None:
    with pytest.raises(MappingError) as caught:
        _map("erp", "customers", {**ERP_CUSTOMER, "NAME1": "  "})
    assert caught.value.reason == "missing_required"
    assert caught.value.field == "NAME1"
    assert "erp/customers/C00000042" in str(caught.value)


def test_invalid_vin_is_a_validation_failure_with_the_rule() -> None:
    with pytest.raises(ValidationFailed) as caught:
        _map("erp", "vehicles", {"VIN": "LFV2A21K0G3000001", "MAKE": "大众", "MODEL": "帕萨特"})
    assert caught.value.reason == "invalid_vin.check_digit"
    assert caught.value.field == "VIN"


def test_o_for_zero_is_repaired_only_with_a_passing_check_digit_and_never_silently() -> None:
    (vehicle,) = _map(
        "erp", "vehicles", {"VIN": "LFV2A21K7G3OOO001", "MODEL": "帕萨特", "MAKE": "大众"}
    ).entities
    assert vehicle.entity_key == vehicle.body["vin"] == "LFV2A21K7G3000001"
    assert vehicle.body["repaired"] == {"vin": "LFV2A21K7G3OOO001 (I/O/Q→1/0, check digit passes)"}
    with pytest.raises(ValidationFailed) as caught:  # O→0 gives a VIN whose check digit fails: refused
        _map("erp", "vehicles", {"VIN": "LFV2A21K8G3OOO001", "MODEL": "帕萨特", "MAKE": "大众"})
    assert caught.value.reason == "invalid_vin.forbidden_letter"


def test_unknown_code_is_quarantined() -> None:
    with pytest.raises(MappingError) as caught:
        _map("erp", "customers", {**ERP_CUSTOMER, "ID_TYPE": "DRIVING_LICENCE"})
    assert caught.value.reason == "unknown_code"
    assert caught.value.field == "ID_TYPE"


def test_bad_optional_email_is_dropped_with_a_warning() -> None:
    mapped = _map("erp", "customers", {**ERP_CUSTOMER, "EMAIL": "not-an-email"})
    kinds = [c["kind"] for c in _one(mapped, "party")["contact_points"]]
    assert "email" not in kinds
    assert mapped.warnings == ["EMAIL: invalid_email.format (dropped)"]


def test_erp_vehicle_and_sales_order() -> None:
    vehicle = _one(_map("erp", "vehicles", {
        "VIN": "LSVAB4182N2000777", "MAKE": "大众", "MODEL": "帕萨特", "TRIM": "330TSI", "MODEL_YEAR": 2022,
        "PROD_DATE": "2022-05-14", "PLANT": "sh01", "COLOUR": "白",
    }), "vehicle")  # fmt: skip
    assert vehicle["definition"] == {"make": "大众", "model": "帕萨特", "model_year": 2022, "trim": "330TSI"}
    assert (vehicle["production_date"], vehicle["plant_code"]) == ("2022-05-14", "SH01")
    sale = _map("erp", "sales_orders", {"VBELN": "SO1", "KUNNR": "C00000042", "VIN": "lsvab4182n2000777",
                                         "DEALER": "D31001", "INVOICE_DATE": "2022-06-01"})  # fmt: skip
    keys = sorted(e.entity_key for e in sale.entities)
    assert keys == ["C00000042:LSVAB4182N2000777:first_purchaser", "C00000042:LSVAB4182N2000777:owner"]


FINANCE_CUSTOMER = {
    "cust_id": "F0000042", "cust_name": "张伟", "cust_type": "个人", "id_type": "身份证",
    "id_number": "110105491231002", "phone": "+86 138 1234 5678", "credit_grade": "AA",
    "credit_term_days": 90, "credit_limit": "150000.00", "currency": "cny", "receivable_balance": "12345.67",
    "updated_at": "2024-03-01 10:00:00",
}  # fmt: skip


def test_finance_upgrades_15_digit_ids_and_reads_credit() -> None:
    mapped = _map("finance", "customers", FINANCE_CUSTOMER)
    identifier = _one(mapped, "party")["identifiers"][0]
    assert identifier["value"] == "11010519491231002X"
    assert identifier["upgraded_from_15"] is True
    credit = _one(mapped, "credit_profile")
    assert credit == {"party_source_id": "F0000042", "grade": "AA", "term_days": 90, "limit": "150000.00",
                      "currency": "CNY", "receivable_balance": "12345.67"}  # fmt: skip
    assert _one(mapped, "party")["contact_points"][0]["mobile"] == "+8613812345678"


def test_finance_unrated_grade() -> None:
    credit = _one(
        _map("finance", "customers", {**FINANCE_CUSTOMER, "credit_grade": "未评级"}), "credit_profile"
    )
    assert credit["grade"] == "unrated"


INSURANCE_POLICY = {
    "policyNo": "PDAA2024310000012345", "vin": "lfv2a21k7g3000001", "plate": "沪A·12345", "holderId": "H000042",
    "holder": {"name": "張偉", "idType": "01", "idNumber": "11010519491231002X", "mobile": "+8613812345678",
               "gender": "M"},
    "insurer": "中国人保", "product": "交强险", "startDate": "2024-01-01", "endDate": "2024-12-31",
    "updatedAt": "2024-01-01T09:00:00+08:00",
}  # fmt: skip


def test_insurance_policy_normalises_vin_plate_and_uses_its_own_codes() -> None:
    mapped = _map("insurance", "policies", INSURANCE_POLICY)
    policy = _one(mapped, "insurance_policy")
    assert policy["vin"] == "LFV2A21K7G3000001"
    assert _one(mapped, "vehicle")["plates"][0]["plate"] == "沪A12345"
    party = _one(mapped, "party")
    assert party["name"]["simplified"] == "张伟"
    assert party["identifiers"][0]["type"] == "resident_id"  # "01" in the insurance industry's own table
    relationship = _one(mapped, "vehicle_relationship")
    assert (relationship["role"], relationship["valid_to"]) == ("policy_holder", "2024-12-31")
    assert [e.entity_key for e in mapped.entities if e.entity_type == "party"] == ["H000042"]


DMS_LEAD = {
    "message_id": "m-1", "event_type": "lead", "dealer_code": "d31001", "occurred_at": "2024-05-01T10:00:00+08:00",
    "customer": {"dms_customer_id": "D31001-000123", "name": "Wei Zhang", "mobile": "13812345678", "gender": "男"},
    "lead": {"purchase_timeframe": "3个月内", "model_interest": "ID.4"},
}  # fmt: skip


def test_dms_lead_with_a_western_order_pinyin_name() -> None:
    mapped = _map("dms", "lead", DMS_LEAD)
    assert _one(mapped, "party")["name"]["pinyin"] == "zhang wei"
    event = _one(mapped, "service_event")
    assert (event["purchase_timeframe"], event["dealer_code"], event["model_interest"]) == (
        "3_months",
        "D31001",
        "ID.4",
    )


def test_dms_delivery_and_repair_order() -> None:
    delivery = _map("dms", "delivery", {**DMS_LEAD, "event_type": "delivery", "lead": None,
                                        "delivery": {"vin": "LSGPC52U4HF012345", "plate": "粤B·D12345",
                                                     "delivered_at": "2024-06-03"}})  # fmt: skip
    assert sorted(e.entity_type for e in delivery.entities) == [
        "party", "service_event", "vehicle", "vehicle_relationship"]  # fmt: skip
    assert _one(delivery, "vehicle")["plates"][0]["plate"] == "粤BD12345"
    repair = _map("dms", "repair_order", {**DMS_LEAD, "event_type": "repair_order", "lead": None,
                                          "repair_order": {"ro_number": "RO-1", "vin": "LSGPC52U4HF012345",
                                                           "mileage_km": "23500", "work": "更换气囊",
                                                           "safety_fault": True}})  # fmt: skip
    event = _one(repair, "service_event")
    assert (event["mileage_km"], event["safety_fault"], event["vin"]) == (23500, True, "LSGPC52U4HF012345")


def test_dms_unknown_timeframe_quarantines_the_lead_event_and_keeps_the_customer() -> None:
    mapped = _map("dms", "lead", {**DMS_LEAD, "lead": {"purchase_timeframe": "明年吧"}})
    assert [e.entity_type for e in mapped.entities] == ["party"]
    (rejected,) = mapped.rejected
    assert (rejected.entity_type, rejected.reason, rejected.source_field) == (
        "service_event", "unknown_code", "lead.purchase_timeframe")  # fmt: skip
    assert rejected.field == "service_event.purchase_timeframe"


PORTAL_REGISTRATION = {
    "event_id": "ev-1", "user_id": "U0000042", "real_name": "張偉", "mobile": "0086 138 1234 5678",
    "email": "zw@example.cn", "id_card": "", "registered_at": "2024-02-01T08:00:00+08:00",
    "consents": [
        {"purpose": "marketing", "channel": "sms", "granted": True, "at": "2024-02-01T08:00:00+08:00"},
        {"purpose": "data_sharing", "channel": "email", "granted": False, "at": "2024-02-02T08:00:00+08:00"},
    ],
    "bound_vins": ["lfv2a21k7g3000001"],
}  # fmt: skip


def test_portal_registration_consents_and_bound_cars() -> None:
    mapped = _map("portal", "registrations", PORTAL_REGISTRATION)
    party = _one(mapped, "party")
    assert party["name"]["simplified"] == "张伟"
    assert "identifiers" not in party or party["identifiers"] == []
    assert party["contact_points"][0]["mobile"] == "+8613812345678"
    consents = {e.entity_key: e.body for e in mapped.entities if e.entity_type == "consent"}
    granted = consents["U0000042:marketing:sms:maker"]
    assert granted["granted_at"] == "2024-02-01T08:00:00+08:00"
    assert "withdrawn_at" not in granted
    assert "granted_at" not in consents["U0000042:data_sharing:email:maker"]
    relationship = _one(mapped, "vehicle_relationship")
    assert (relationship["vin"], relationship["valid_from"]) == ("LFV2A21K7G3000001", "2024-02-01")


def test_portal_bad_bound_vin_quarantines_that_car_and_keeps_the_customer() -> None:
    mapped = _map("portal", "registrations", {**PORTAL_REGISTRATION, "bound_vins": ["LFV2A21K0G3000001"]})
    assert _one(mapped, "party")["name"]["simplified"] == "张伟"
    (rejected,) = mapped.rejected
    assert (rejected.entity_type, rejected.reason) == ("vehicle_relationship", "invalid_vin.check_digit")
    assert (rejected.field, rejected.source_field) == ("vehicle_relationship.vin", "bound_vins[0]")
