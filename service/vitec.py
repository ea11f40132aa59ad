"""The process's Vitec client for the services, as `service/blobs.py` is for Blob Storage."""

from __future__ import annotations

from core.resources import Resources
from repository.vitec.client import VitecClient


def _build(resources: Resources) -> VitecClient:
    return VitecClient(resources.settings.vitec, resources.redis, resources.rate_limiter)


def vitec_client(resources: Resources) -> VitecClient:
    """These resources' one Vitec client (one pooled HTTP client per process and settings, so every
    caller shares it), built on first use and closed with the resources."""
    return resources.shared(_build)
