"""Operations commands: `python -m cli <command>`.

- `seed`: ensure the organization and admin named by the SEED_* settings exist (idempotent).
- `ensure-database`: create the database of DATABASE_URL when it is missing.
- `wait-for postgres|redis`: exit 0 once the service answers, 1 after the timeout.
- `sync [--mode incremental|full]`: queue a Vitec sync of the SEED_* organization.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from cli.commands import ensure_database, seed, sync, wait_for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cli", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seed", help="create the seed organization and admin (idempotent)")
    commands.add_parser("ensure-database", help="create the configured database if missing")
    sync_command = commands.add_parser("sync", help="queue a Vitec sync of the seed organization")
    sync_command.add_argument("--mode", choices=["incremental", "full"], default="full")
    wait = commands.add_parser("wait-for", help="wait until a backing service answers")
    wait.add_argument("service", choices=["postgres", "redis"])
    wait.add_argument("--timeout", type=float, default=0.0, help="seconds; 0 checks once")
    args = parser.parse_args(argv)
    if args.command == "seed":
        return asyncio.run(seed())
    if args.command == "sync":
        return asyncio.run(sync(args.mode))
    if args.command == "ensure-database":
        return asyncio.run(ensure_database())
    return asyncio.run(wait_for(args.service, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
