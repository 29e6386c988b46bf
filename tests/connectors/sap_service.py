"""A fake SAP ECC enterprise service over real HTTP, written from what such a service publishes, not from the
hub's own fake ERP: CustomerSimpleByNameAndAddressQueryResponse_In, document/literal SOAP 1.1.

What makes it SAP and not the hub's shape: two namespaces (the service's messages in
``http://sap.com/xi/APPL/SE/Global``, the global data types in ``http://sap.com/xi/SAPGlobal20/Global``),
unqualified child elements, a required selection structure (``CustomerSimpleSelectionByNameAndAddress``), a
customer ``ID`` with ``schemeID`` / ``schemeAgencyID`` attributes and leading zeros, the name at
``BasicData.Common.Name.FirstLineName`` with ``NaturalPersonIndicator`` and ``BlockedIndicator`` beside it, the
address at ``AddressInformation.Address.PostalAddress``, change times as SAP time stamps without a zone
(``20261130140509.1234567``) and dates as DATS (``20261130``), no change-time filter, and a hit limit
(``ProcessingConditions.QueryHitsMaximumNumberValue`` or ``QueryHitsUnlimitedIndicator``) answered with
``ReturnedQueryHitsNumberValue`` and ``MoreHitsAvailableIndicator``. The ECC service has no paging; with
``paging=True`` the fake is a newer service whose processing conditions carry the last returned id
(``QueryLastReturnedObjectID`` → ``LastReturnedObjectID``). Logon is HTTP Basic (the ICF's 401 page is HTML),
optionally also a WS-Security UsernameToken (refused with a ``wsse:FailedAuthentication`` fault). Every
request is counted with its answer's status, so a test can see how often a logon was tried.
"""

from __future__ import annotations

import base64
import fnmatch
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

APPL = "http://sap.com/xi/APPL/SE/Global"
GLOBAL = "http://sap.com/xi/SAPGlobal20/Global"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
OPERATION = "CustomerSimpleByNameAndAddressQueryResponse_In"
QUERY, RESPONSE = "CustomerSimpleByNameAndAddressQuery_sync", "CustomerSimpleByNameAndAddressResponse_sync"
PATH = "/sap/bc/srt/xip/sap/ecc_custsbynaaqr/100/autohub/binding"


def _global_types(paging: bool) -> str:
    last_asked = (
        '<xsd:element name="QueryLastReturnedObjectID" type="xsd:token" minOccurs="0"/>' if paging else ""
    )
    last_given = '<xsd:element name="LastReturnedObjectID" type="xsd:token" minOccurs="0"/>' if paging else ""
    return f"""
<xsd:schema targetNamespace="{GLOBAL}" xmlns:n1="{GLOBAL}" elementFormDefault="unqualified">
 <xsd:simpleType name="CustomerID.Content"><xsd:restriction base="xsd:token"><xsd:maxLength value="10"/>
 </xsd:restriction></xsd:simpleType>
 <xsd:complexType name="CustomerID"><xsd:simpleContent><xsd:extension base="n1:CustomerID.Content">
  <xsd:attribute name="schemeID" type="xsd:token"/><xsd:attribute name="schemeAgencyID" type="xsd:token"/>
 </xsd:extension></xsd:simpleContent></xsd:complexType>
 <xsd:complexType name="QueryProcessingConditions"><xsd:sequence>
  <xsd:element name="QueryHitsMaximumNumberValue" type="xsd:int" minOccurs="0"/>
  <xsd:element name="QueryHitsUnlimitedIndicator" type="xsd:boolean" minOccurs="0"/>
  {last_asked}
 </xsd:sequence></xsd:complexType>
 <xsd:complexType name="ResponseProcessingConditions"><xsd:sequence>
  <xsd:element name="ReturnedQueryHitsNumberValue" type="xsd:int"/>
  <xsd:element name="MoreHitsAvailableIndicator" type="xsd:boolean"/>
  {last_given}
 </xsd:sequence></xsd:complexType>
 <xsd:complexType name="SystemAdministrativeData"><xsd:sequence>
  <xsd:element name="CreationDate" type="xsd:string" minOccurs="0"/>
  <xsd:element name="LastChangeDateTime" type="xsd:string" minOccurs="0"/>
 </xsd:sequence></xsd:complexType>
 <xsd:complexType name="Log"><xsd:sequence>
  <xsd:element name="MaximumLogItemSeverityCode" type="xsd:token" minOccurs="0"/>
 </xsd:sequence></xsd:complexType>
</xsd:schema>"""


_SERVICE_TYPES = f"""
<xsd:schema targetNamespace="{APPL}" xmlns:n0="{APPL}" xmlns:n1="{GLOBAL}" elementFormDefault="unqualified">
 <xsd:import namespace="{GLOBAL}"/>
 <xsd:element name="{QUERY}" type="n0:CustomerSimpleByNameAndAddressQueryMessage_sync"/>
 <xsd:element name="{RESPONSE}" type="n0:CustomerSimpleByNameAndAddressResponseMessage_sync"/>
 <xsd:complexType name="CustomerSimpleByNameAndAddressQueryMessage_sync"><xsd:sequence>
  <xsd:element name="ProcessingConditions" type="n1:QueryProcessingConditions" minOccurs="0"/>
  <xsd:element name="CustomerSimpleSelectionByNameAndAddress" type="n0:CustomerSimpleSelectionByNameAndAddress"/>
 </xsd:sequence></xsd:complexType>
 <xsd:complexType name="CustomerSimpleSelectionByNameAndAddress"><xsd:sequence>
  <xsd:element name="CustomerAddressName" type="xsd:string" minOccurs="0"/>
  <xsd:element name="CustomerAddressCityName" type="xsd:string" minOccurs="0"/>
  <xsd:element name="CustomerAddressCountryCode" type="xsd:token" minOccurs="0"/>
 </xsd:sequence></xsd:complexType>
 <xsd:complexType name="CustomerSimpleByNameAndAddressResponseMessage_sync"><xsd:sequence>
  <xsd:element name="Customer" type="n0:CustomerSimpleByNameAndAddressResponseCustomer" minOccurs="0"
               maxOccurs="unbounded"/>
  <xsd:element name="ProcessingConditions" type="n1:ResponseProcessingConditions" minOccurs="0"/>
  <xsd:element name="Log" type="n1:Log" minOccurs="0"/>
 </xsd:sequence></xsd:complexType>
 <xsd:complexType name="PostalAddress"><xsd:sequence>
  <xsd:element name="CountryCode" type="xsd:token" minOccurs="0"/>
  <xsd:element name="RegionCode" type="xsd:token" minOccurs="0"/>
  <xsd:element name="CityName" type="xsd:string" minOccurs="0"/>
  <xsd:element name="StreetName" type="xsd:string" minOccurs="0"/>
  <xsd:element name="HouseID" type="xsd:string" minOccurs="0"/>
 </xsd:sequence></xsd:complexType>
 <xsd:complexType name="Address"><xsd:sequence>
  <xsd:element name="PostalAddress" type="n0:PostalAddress" minOccurs="0"/>
 </xsd:sequence></xsd:complexType>
 <xsd:complexType name="AddressInformation"><xsd:sequence>
  <xsd:element name="Address" type="n0:Address" minOccurs="0"/>
 </xsd:sequence></xsd:complexType>
 <xsd:complexType name="Name"><xsd:sequence>
  <xsd:element name="FirstLineName" type="xsd:string" minOccurs="0"/>
  <xsd:element name="SecondLineName" type="xsd:string" minOccurs="0"/>
 </xsd:sequence></xsd:complexType>
 <xsd:complexType name="Common"><xsd:sequence>
  <xsd:element name="Name" type="n0:Name" minOccurs="0"/>
  <xsd:element name="NaturalPersonIndicator" type="xsd:boolean" minOccurs="0"/>
  <xsd:element name="BlockedIndicator" type="xsd:boolean" minOccurs="0"/>
 </xsd:sequence></xsd:complexType>
 <xsd:complexType name="BasicData"><xsd:sequence>
  <xsd:element name="Common" type="n0:Common" minOccurs="0"/>
 </xsd:sequence></xsd:complexType>
 <xsd:complexType name="CustomerSimpleByNameAndAddressResponseCustomer"><xsd:sequence>
  <xsd:element name="ID" type="n1:CustomerID"/>
  <xsd:element name="BasicData" type="n0:BasicData" minOccurs="0"/>
  <xsd:element name="AddressInformation" type="n0:AddressInformation" minOccurs="0"/>
  <xsd:element name="SystemAdministrativeData" type="n1:SystemAdministrativeData" minOccurs="0"/>
 </xsd:sequence></xsd:complexType>
</xsd:schema>"""


def wsdl(location: str, *, paging: bool = False) -> str:
    """The service description, its soap:address at ``location``; types, messages, port type, binding."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions targetNamespace="{APPL}" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
  xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
  xmlns:n0="{APPL}" xmlns:n1="{GLOBAL}">
 <wsdl:types>{_global_types(paging)}{_SERVICE_TYPES}</wsdl:types>
 <wsdl:message name="{QUERY}"><wsdl:part name="{QUERY}" element="n0:{QUERY}"/></wsdl:message>
 <wsdl:message name="{RESPONSE}"><wsdl:part name="{RESPONSE}" element="n0:{RESPONSE}"/></wsdl:message>
 <wsdl:portType name="{OPERATION}"><wsdl:operation name="{OPERATION}">
  <wsdl:input message="n0:{QUERY}"/><wsdl:output message="n0:{RESPONSE}"/>
 </wsdl:operation></wsdl:portType>
 <wsdl:binding name="binding" type="n0:{OPERATION}">
  <soap:binding transport="http://schemas.xmlsoap.org/soap/http" style="document"/>
  <wsdl:operation name="{OPERATION}">
   <soap:operation soapAction="http://sap.com/xi/WebService/soap1.1" style="document"/>
   <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output>
  </wsdl:operation>
 </wsdl:binding>
 <wsdl:service name="service"><wsdl:port name="binding" binding="n0:binding">
  <soap:address location="{location}"/>
 </wsdl:port></wsdl:service>
</wsdl:definitions>"""


@dataclass(frozen=True)
class SapCustomer:
    """One customer master record (KNA1) as the service returns it."""

    number: str  # KUNNR, with SAP's leading zeros: "0000100001"
    name: str
    city: str = "上海"
    street: str = "南京西路"
    house: str = "1266"
    changed: str = "20261130140509.1234567"  # TIMESTAMPL, no zone
    created: str = "20241130"  # DATS
    person: bool = True  # NaturalPersonIndicator: false for a company
    blocked: bool = False  # BlockedIndicator: a central posting or order block


@dataclass
class SapService:
    """The service's data and logon, and what it saw: every request as (method, path, HTTP status)."""

    customers: list[SapCustomer] = field(default_factory=list)
    user: str = "AUTOHUB"
    password: str = ""
    protect_wsdl: bool = True  # SAP's ?wsdl URL is behind the same logon as the calls
    require_wsse: bool = False  # also a WS-Security UsernameToken in the SOAP header
    wsse_password: str | None = None  # the token's password, when it differs from the logon's
    paging: bool = False  # a newer service: the last returned id in the processing conditions
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    queries: list[dict[str, Any]] = field(default_factory=list)  # the parsed body of every call answered
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def location(self) -> str:
        if not self._server:
            raise RuntimeError("the fake SAP service is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{PATH}"

    @property
    def origin(self) -> str:
        return self.location.removesuffix(PATH)

    @property
    def wsdl_url(self) -> str:
        return f"{self.location}?sap-client=100&wsdl=1.1"  # the ?sap-client query as SOAMANAGER gives it

    def count(self, method: str) -> int:
        return sum(1 for m, _, _ in self.requests if m == method)

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # --- behaviour --------------------------------------------------------------------------------------

    def logged_on(self, authorization: str | None) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return authorization == f"Basic {expected}"

    def answer(self, body: bytes) -> tuple[int, bytes]:
        query = _parse(body)
        token = (self.user, self.password if self.wsse_password is None else self.wsse_password)
        if self.require_wsse and query.get("wsse") != token:
            return 500, _fault("wsse:FailedAuthentication", "The security token could not be authenticated")
        selection = query.get("CustomerSimpleSelectionByNameAndAddress")
        if not isinstance(selection, dict):
            return 500, _fault("soap:Client", "CustomerSimpleSelectionByNameAndAddress is required")
        with self._lock:
            self.queries.append(query)
        conditions = query.get("ProcessingConditions") or {}
        pattern = str(selection.get("CustomerAddressName") or "*")
        hits = sorted(
            (c for c in self.customers if fnmatch.fnmatchcase(c.name, pattern)), key=lambda c: c.number
        )
        after = conditions.get("QueryLastReturnedObjectID")
        hits = [c for c in hits if after is None or c.number > after]
        unlimited = conditions.get("QueryHitsUnlimitedIndicator") == "true"
        limit = (
            (len(hits) or 1)
            if unlimited
            else int(conditions.get("QueryHitsMaximumNumberValue") or len(hits) or 1)
        )
        page, more = hits[:limit], len(hits) > limit
        return 200, _response(page, more, paging=self.paging)


def _localname(node: Any) -> str:
    return str(etree.QName(node).localname)


def _children(node: Any) -> dict[str, Any]:
    return {_localname(child): (_children(child) if len(child) else child.text) for child in node}


def _parse(body: bytes) -> dict[str, Any]:
    """The query's elements by local name, nested; ``wsse``: the (user, password) of a UsernameToken."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(body, parser=parser)
    request = root.find(f"{{{SOAP_ENV}}}Body/{{{APPL}}}{QUERY}")
    if request is None:
        return {}
    query = _children(request)
    token = root.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
    if token is not None:
        query["wsse"] = (token.findtext(f"{{{WSSE}}}Username"), token.findtext(f"{{{WSSE}}}Password"))
    return query


def _customer_xml(c: SapCustomer) -> str:
    return (
        f'<Customer><ID schemeID="CustomerID" schemeAgencyID="ECC_100">{c.number}</ID>'
        f"<BasicData><Common><Name><FirstLineName>{escape(c.name)}</FirstLineName></Name>"
        f"<NaturalPersonIndicator>{str(c.person).lower()}</NaturalPersonIndicator>"
        f"<BlockedIndicator>{str(c.blocked).lower()}</BlockedIndicator></Common></BasicData>"
        f"<AddressInformation><Address><PostalAddress><CountryCode>CN</CountryCode><RegionCode>31</RegionCode>"
        f"<CityName>{escape(c.city)}</CityName><StreetName>{escape(c.street)}</StreetName>"
        f"<HouseID>{escape(c.house)}</HouseID></PostalAddress></Address></AddressInformation>"
        f"<SystemAdministrativeData><CreationDate>{c.created}</CreationDate>"
        f"<LastChangeDateTime>{escape(c.changed)}</LastChangeDateTime></SystemAdministrativeData></Customer>"
    )


def _response(page: list[SapCustomer], more: bool, *, paging: bool) -> bytes:
    last = f"<LastReturnedObjectID>{page[-1].number}</LastReturnedObjectID>" if page and paging else ""
    conditions = (
        f"<ProcessingConditions><ReturnedQueryHitsNumberValue>{len(page)}</ReturnedQueryHitsNumberValue>"
        f"<MoreHitsAvailableIndicator>{str(more).lower()}</MoreHitsAvailableIndicator>{last}</ProcessingConditions>"
    )
    inner = "".join(_customer_xml(c) for c in page) + conditions + "<Log/>"
    return _envelope(f'<n0:{RESPONSE} xmlns:n0="{APPL}">{inner}</n0:{RESPONSE}>')


def _envelope(inner: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap-env:Envelope xmlns:soap-env="{SOAP_ENV}">'
        f"<soap-env:Header/><soap-env:Body>{inner}</soap-env:Body></soap-env:Envelope>"
    ).encode()


def _fault(code: str, message: str) -> bytes:
    return _envelope(
        f'<soap-env:Fault xmlns:wsse="{WSSE}"><faultcode>{code}</faultcode>'
        f"<faultstring>{escape(message)}</faultstring></soap-env:Fault>"
    )


_LOGON_PAGE = b"<html><head><title>Logon failed</title></head><body>401 Unauthorized</body></html>"


def _handler_for(sap: SapService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8") -> None:
            with sap._lock:
                sap.requests.append((self.command, self.path, status))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if status == 401:
                self.send_header(
                    "WWW-Authenticate", 'Basic realm="SAP NetWeaver Application Server [ECC/100]"'
                )
            self.end_headers()
            self.wfile.write(body)

        def _refused(self) -> bool:
            if sap.logged_on(self.headers.get("Authorization")):
                return False
            self._send(401, _LOGON_PAGE, "text/html; charset=utf-8")
            return True

        def do_GET(self) -> None:
            if not self.path.startswith(PATH) or "wsdl" not in self.path:
                self._send(404, b"not found", "text/plain")
            elif not (sap.protect_wsdl and self._refused()):
                self._send(200, wsdl(sap.location, paging=sap.paging).encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path != PATH:
                self._send(404, b"not found", "text/plain")
            elif not self._refused():
                self._send(*sap.answer(body))

    return Handler
