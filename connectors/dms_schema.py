"""The DMS event contract (version 1) that dealers publish, as pydantic models.

The JSON Schema in ``connectors/schemas/dms-event.v1.schema.json`` is generated from these models
(``python -m connectors.dms_schema > connectors/schemas/dms-event.v1.schema.json``) and a test keeps the two
equal. A breaking change is a new version file beside this one, never an edit of v1.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_ID = "https://autohub.invalid/schemas/dms-event.v1.schema.json"


class _Open(BaseModel):
    # Dealers' systems add fields; extra fields are kept in the raw record, not refused.
    model_config = ConfigDict(extra="allow")


class DmsCustomer(_Open):
    dms_customer_id: str = Field(description="the dealer's own customer id, e.g. D31001-000123")
    name: str = Field(description="as typed at the dealer: Chinese, traditional or pinyin ('Wei Zhang')")
    mobile: str | None = Field(default=None, description="any common format; +86/0086 prefixes accepted")
    gender: Literal["男", "女", ""] | None = None


class Lead(_Open):
    purchase_timeframe: Literal["立即", "3个月内", "6个月内", "12个月内"]
    model_interest: str | None = None


class Delivery(_Open):
    vin: str = Field(min_length=17, max_length=17)
    plate: str | None = None
    delivered_at: str = Field(description="YYYY-MM-DD")


class RepairOrder(_Open):
    ro_number: str
    vin: str = Field(min_length=17, max_length=17)
    mileage_km: int = Field(ge=0)
    work: str
    safety_fault: bool = Field(description="caused by a safety defect (recall regulation Art. 10 reporting)")


class DmsEventV1(_Open):
    """One event. Routing key ``dms.<dealer_code>.<event_type>``; AMQP ``message_id`` = ``message_id``."""

    message_id: str = Field(description="unique per event; redeliveries with the same id are stored once")
    event_type: Literal["lead", "delivery", "repair_order"]
    dealer_code: str = Field(pattern=r"^[A-Z0-9]{3,12}$")
    occurred_at: str = Field(description="ISO 8601 with offset, e.g. 2024-05-01T10:00:00+08:00")
    customer: DmsCustomer | None = None
    lead: Lead | None = None
    delivery: Delivery | None = None
    repair_order: RepairOrder | None = None


def json_schema() -> dict[str, object]:
    schema = DmsEventV1.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


if __name__ == "__main__":
    print(json.dumps(json_schema(), ensure_ascii=False, indent=2))
