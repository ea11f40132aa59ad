"""The Vitec client belongs to the resources: one per resources, closed with them."""

from __future__ import annotations

from core.resources import Resources
from core.settings import Settings
from service.vitec import vitec_client


async def test_the_resources_build_one_vitec_client_and_close_it(settings: Settings) -> None:
    resources = Resources.build(settings)
    other = Resources.build(settings)
    try:
        client = vitec_client(resources)
        # Every caller shares one client (one HTTP pool); other resources have their own.
        assert vitec_client(resources) is client
        assert vitec_client(other) is not client
    finally:
        await resources.close()
        await other.close()

    assert client._http.is_closed
