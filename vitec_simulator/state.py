"""The simulator's whole mutable state: installations, faults and counters."""

from __future__ import annotations

from starlette.requests import Request

from vitec_simulator.config import Config
from vitec_simulator.faults import FaultState
from vitec_simulator.responses import HubError, not_found
from vitec_simulator.stats import Stats
from vitec_simulator.store import InstallationStore


class SimulatorState:
    """Everything one simulator app holds; `reset()` brings it back to the seeded state."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.installations = {name.upper(): InstallationStore(config, name) for name in config.served_installations}
        self.forbidden = frozenset(name.upper() for name in config.forbidden_installations)
        self.faults = FaultState()
        self.stats = Stats()

    def reset(self) -> None:
        """Counters, faults and every data change back to the seeded state."""
        for store in self.installations.values():
            store.reset()
        self.faults.clear()
        self.stats.clear()

    def installation(self, installation: str) -> InstallationStore:
        """The store of a Hub path's installation (case-insensitive); 403 if forbidden, 404 if unknown."""
        key = installation.upper()
        if key in self.forbidden:
            raise HubError(403, f"no rights to installation {installation}")
        store = self.installations.get(key)
        if store is None:
            raise not_found(f"installation {installation}")
        return store

    def control_installation(self, installation: str) -> InstallationStore:
        """The store of a control path's installation; 404 if it has no data."""
        store = self.installations.get(installation.upper())
        if store is None:
            raise not_found(f"installation {installation}")
        return store


def simulator(request: Request) -> SimulatorState:
    """The state of the app serving `request`."""
    state = request.app.state.simulator
    if not isinstance(state, SimulatorState):
        raise TypeError("the app carries no simulator state")
    return state
