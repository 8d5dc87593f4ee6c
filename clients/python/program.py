"""A small program on the Python client generated from the committed openapi.json.

`scripts/check_python_client.sh` generates the client (openapi-python-client) into
.build/python-client and type-checks this file against it with `mypy --strict`;
tests/clients/test_generated_clients.py runs it against a live server. It does what a new user
does first: signs in, lists (a page and the next one), reads, creates, and handles problems.

    PYTHONPATH=.build/python-client python clients/python/program.py \\
        --base-url http://127.0.0.1:8000 --email sekretariat@demo.inovasi.id  # INOVASI_PASSWORD

It prints one line per step and exits 1 at the first answer that is not the one expected.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from typing import NoReturn

from inovasi_client import AuthenticatedClient, Client
from inovasi_client.api.identity import create_access_token, get_me
from inovasi_client.api.institutions import create_institution, get_institution
from inovasi_client.api.regions import get_region, list_regions
from inovasi_client.models import (
    InstitutionCreate,
    InstitutionKind,
    InstitutionRead,
    PrincipalRead,
    Problem,
    RegionPage,
    RegionRead,
    TokenRequest,
    TokenResponse,
)
from inovasi_client.types import Unset


def fail(step: str, answer: object) -> NoReturn:
    print(f"FAILED {step}: {answer!r}", file=sys.stderr)
    raise SystemExit(1)


def describe(problem: Problem) -> str:
    """A problem as a user reads it: its status and code, and each field error where present.

    `errors` is optional: the server leaves it out unless the request had field errors, so the
    program looks before it reads."""
    line = f"{problem.status} {problem.code}"
    if not isinstance(problem.errors, Unset) and problem.errors is not None:
        pointers = [e.pointer for e in problem.errors if isinstance(e.pointer, str)]
        line += f" errors={json.dumps(pointers)}"
    return line


def sign_in(base_url: str, email: str, password: str) -> str:
    """An access token for the account (the token endpoint's JSON body)."""
    with Client(base_url=base_url, raise_on_unexpected_status=True) as anonymous:
        body = TokenRequest(email=email, password=password)
        token = create_access_token.sync(client=anonymous, body=body)
    if not isinstance(token, TokenResponse):
        fail("sign in", token)
    print(f"signed in: a {token.token_type} token for {token.expires_in} s")
    return token.access_token


def who_am_i(client: AuthenticatedClient, email: str) -> None:
    me = get_me.sync(client=client)
    if not isinstance(me, PrincipalRead) or me.email != email:
        fail("who am I", me)
    print(f"signed in as {me.name} ({me.role.value})")


def list_provinces(client: AuthenticatedClient) -> list[RegionRead]:
    """The first two pages of the provinces, two at a time: paging follows `next_cursor`."""
    first = list_regions.sync(client=client, level=1, limit=2)
    if not isinstance(first, RegionPage) or len(first.items) != 2 or not first.has_more:
        fail("list provinces", first)
    if not isinstance(first.next_cursor, str):
        fail("list provinces: a next cursor", first)
    second = list_regions.sync(client=client, level=1, limit=2, cursor=first.next_cursor)
    if not isinstance(second, RegionPage) or not second.items:
        fail("list provinces: the next page", second)
    provinces = first.items + second.items
    codes = [region.code for region in provinces]
    if len(set(codes)) != len(codes) or any(region.level != 1 for region in provinces):
        fail("list provinces: pages that do not overlap", codes)
    print(f"listed provinces, two pages: {', '.join(codes)}")
    return provinces


def read_region(client: AuthenticatedClient, code: str) -> RegionRead:
    region = get_region.sync(code, client=client)
    if not isinstance(region, RegionRead) or region.code != code:
        fail("read a region", region)
    print(f"read region {region.code}: {region.name}")
    return region


def create_and_read(client: AuthenticatedClient) -> InstitutionRead:
    """A ministry (national: no region), read back by its id."""
    name = f"Kementerian Uji Klien {uuid.uuid4().hex[:8]}"
    body = InstitutionCreate(name=name, kind=InstitutionKind.KEMENTERIAN)
    created = create_institution.sync(client=client, body=body)
    if not isinstance(created, InstitutionRead) or created.name != name:
        fail("create an institution", created)
    fetched = get_institution.sync(created.id, client=client)
    if not isinstance(fetched, InstitutionRead) or fetched.version != created.version:
        fail("read the institution back", fetched)
    print(f"created institution {fetched.id} (version {fetched.version}): {fetched.name}")
    return fetched


def handle_problems(client: AuthenticatedClient) -> None:
    """Two refusals, read as problems: one without field errors, one with."""
    missing = get_institution.sync(uuid.uuid4(), client=client)
    if not isinstance(missing, Problem) or missing.code != "institution.not_found":
        fail("read a missing institution", missing)
    if not isinstance(missing.errors, Unset) and missing.errors:
        fail("a not-found problem has no field errors", missing)
    print(f"problem: {describe(missing)}")

    invalid = InstitutionCreate(name="", kind=InstitutionKind.KEMENTERIAN)
    refused = create_institution.sync(client=client, body=invalid)
    if not isinstance(refused, Problem) or refused.status != 422:
        fail("create an institution without a name", refused)
    if isinstance(refused.errors, Unset) or not refused.errors:
        fail("a validation problem lists its field errors", refused)
    if "/name" not in [error.pointer for error in refused.errors]:
        fail("the field error points at /name", refused.errors)
    print(f"problem: {describe(refused)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--email", required=True)
    args = parser.parse_args(argv)
    password = os.environ.get("INOVASI_PASSWORD")
    if not password:
        parser.error("set INOVASI_PASSWORD")
    token = sign_in(args.base_url, args.email, password)
    client = AuthenticatedClient(base_url=args.base_url, token=token)
    with client:
        who_am_i(client, args.email)
        provinces = list_provinces(client)
        read_region(client, provinces[-1].code)
        create_and_read(client)
        handle_problems(client)
    print("OK")


if __name__ == "__main__":
    main()
