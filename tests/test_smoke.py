from __future__ import annotations

import httpx

from tests.conftest import InstitutionFactory


async def test_livez_answers_without_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_institution_created_in_a_test_is_visible_through_the_api(
    client: httpx.AsyncClient, make_institution: InstitutionFactory
) -> None:
    institution = await make_institution(name="Kementerian Contoh Asap")
    response = await client.get(f"/v1/institutions/{institution.id}")
    assert response.status_code == 200
    assert response.json()["name"] == "Kementerian Contoh Asap"
