"""The fake ERP's WSDL, built from one table of record types so the schema and the server never disagree.

Document/literal wrapped SOAP 1.1, the style SAP and most ERPs publish. Every field is ``xs:string`` like
SAP's CHAR/NUMC fields (a typo in a number must reach the hub and be quarantined there, not break the
parse of a whole page), except ``CHANGED_AT``, which is a real ``xs:dateTime`` the "changed since" filter uses.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "urn:autohub:fake-erp:v1"


@dataclass(frozen=True)
class RecordType:
    stream: str  # the hub's stream name
    operation: str  # GetCustomers
    element: str  # Customer: one repeated element per record in the response
    key: str  # the record's id field
    fields: tuple[str, ...]  # in schema order; CHANGED_AT is appended as xs:dateTime


RECORD_TYPES: tuple[RecordType, ...] = (
    RecordType("customers", "GetCustomers", "Customer", "KUNNR",
               ("KUNNR", "KTOKD", "NAME1", "SEX", "GBDAT", "ID_TYPE", "ID_NO", "MOBILE", "EMAIL", "REGIO", "STRAS")),
    RecordType("vehicles", "GetVehicles", "Vehicle", "VIN",
               ("VIN", "MAKE", "MODEL", "TRIM", "MODEL_YEAR", "PROD_DATE", "PLANT", "COLOUR")),
    RecordType("sales_orders", "GetSalesOrders", "SalesOrder", "VBELN",
               ("VBELN", "KUNNR", "VIN", "DEALER", "INVOICE_DATE", "NET_PRICE")),
)  # fmt: skip
BY_STREAM = {rt.stream: rt for rt in RECORD_TYPES}


@dataclass(frozen=True)
class Dialect:
    """The names one ERP uses for paging; another ERP's names prove the connector needs config, not code."""

    changed_since: str = "ChangedSince"
    page_token: str = "PageToken"  # noqa: S105 - element names, not secrets
    page_size: str = "PageSize"
    next_token: str = "NextPageToken"  # noqa: S105
    records_wrapper: str | None = None  # e.g. "Debitors": records sit in <Debitors><Debitor/>…</Debitors>


def _records_element(rt: RecordType, dialect: Dialect) -> str:
    repeated = (
        f'<xs:element name="{rt.element}" type="tns:{rt.element}Type" minOccurs="0" maxOccurs="unbounded"/>'
    )
    if not dialect.records_wrapper:
        return repeated
    return (f'<xs:element name="{dialect.records_wrapper}" minOccurs="0"><xs:complexType><xs:sequence>'
            f"{repeated}</xs:sequence></xs:complexType></xs:element>")  # fmt: skip


def _complex_types(types: tuple[RecordType, ...], d: Dialect) -> str:
    parts = []
    for rt in types:
        fields = "".join(f'<xs:element name="{f}" type="xs:string" minOccurs="0"/>' for f in rt.fields)
        parts.append(
            f'<xs:complexType name="{rt.element}Type"><xs:sequence>{fields}'
            '<xs:element name="CHANGED_AT" type="xs:dateTime" minOccurs="0"/>'
            "</xs:sequence></xs:complexType>"
            f'<xs:element name="{rt.operation}"><xs:complexType><xs:sequence>'
            f'<xs:element name="{d.changed_since}" type="xs:dateTime" minOccurs="0"/>'
            f'<xs:element name="{d.page_token}" type="xs:string" minOccurs="0"/>'
            f'<xs:element name="{d.page_size}" type="xs:int"/>'
            "</xs:sequence></xs:complexType></xs:element>"
            f'<xs:element name="{rt.operation}Response"><xs:complexType><xs:sequence>'
            f"{_records_element(rt, d)}"
            f'<xs:element name="{d.next_token}" type="xs:string" minOccurs="0"/>'
            "</xs:sequence></xs:complexType></xs:element>"
        )
    return "".join(parts)


def wsdl(location: str, types: tuple[RecordType, ...] = RECORD_TYPES, dialect: Dialect | None = None) -> str:
    """The service description with ``soap:address`` pointing at ``location`` (where this server listens)."""
    dialect = dialect or Dialect()
    messages = "".join(
        f'<wsdl:message name="{rt.operation}In"><wsdl:part name="parameters" element="tns:{rt.operation}"/></wsdl:message>'
        f'<wsdl:message name="{rt.operation}Out"><wsdl:part name="parameters" element="tns:{rt.operation}Response"/></wsdl:message>'
        for rt in types
    )
    port_ops = "".join(
        f'<wsdl:operation name="{rt.operation}"><wsdl:input message="tns:{rt.operation}In"/>'
        f'<wsdl:output message="tns:{rt.operation}Out"/></wsdl:operation>'
        for rt in types
    )
    binding_ops = "".join(
        f'<wsdl:operation name="{rt.operation}"><soap:operation soapAction="{NAMESPACE}#{rt.operation}"/>'
        '<wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output>'
        "</wsdl:operation>"
        for rt in types
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
        'xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:tns="{NAMESPACE}" targetNamespace="{NAMESPACE}" name="FakeErp">'
        f'<wsdl:types><xs:schema targetNamespace="{NAMESPACE}" elementFormDefault="qualified">'
        f"{_complex_types(types, dialect)}</xs:schema></wsdl:types>"
        f"{messages}"
        f'<wsdl:portType name="ErpPortType">{port_ops}</wsdl:portType>'
        '<wsdl:binding name="ErpBinding" type="tns:ErpPortType">'
        '<soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>'
        f"{binding_ops}</wsdl:binding>"
        '<wsdl:service name="ErpService"><wsdl:port name="ErpPort" binding="tns:ErpBinding">'
        f'<soap:address location="{location}"/></wsdl:port></wsdl:service>'
        "</wsdl:definitions>"
    )
