"""OCPP 1.6 compliance harness: the OCTT test cases as a pytest plugin."""

__version__ = "0.1.0"
