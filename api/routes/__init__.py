"""The routers, one module per feature, all mounted under `API_PREFIX`."""

API_PREFIX = "/api/v1"
