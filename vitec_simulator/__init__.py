"""A local, faithful and adversarial stand-in for the Vitec Next Hub API (dev and test only).

Run it with `uv run uvicorn vitec_simulator.app:app --port 8100`. Production code never imports
this package; it only talks to it over HTTP like it would talk to the real Hub.
"""
