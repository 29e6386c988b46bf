"""Runnable stand-ins for partner systems (insurance REST, ERP SOAP) over real HTTP, with fault injection.

Used by the demo and the connector tests; never by the hub itself.
"""
