from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.core.openapi import problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.security import CurrentPrincipal
from app.db.session import SessionDep
from app.domains.jobs import service
from app.domains.jobs.schemas import JobFilter, JobPage, JobRead, JobSort, JobStatus

router = APIRouter(tags=["jobs"], route_class=PolicyRoute)


@router.get("/jobs", responses=problems(400))
async def list_jobs(
    session: SessionDep,
    _: CurrentPrincipal,
    page: PageDep,
    status: Annotated[list[JobStatus] | None, Query(description="Any of these.")] = None,
    kind: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    sort: JobSort = JobSort.created_at_desc,
) -> JobPage:
    """List background jobs (newest first): what each does, where it stands, its attempts and
    last error. `status=dead` lists the jobs that failed every attempt."""
    filters = JobFilter(status=status or [], kind=kind)
    result = await service.list_jobs(session, filters, sort, page)
    return JobPage.model_validate(result, from_attributes=True)


@router.get("/jobs/{job_id:uuid}", responses=problems(404))
async def get_job(session: SessionDep, _: CurrentPrincipal, job_id: uuid.UUID) -> JobRead:
    """One background job, with its attempts and last error."""
    return JobRead.model_validate(await service.get_job(session, job_id))


@router.post("/jobs/{job_id:uuid}/retry", responses=problems(404, 409))
async def retry_job(session: SessionDep, principal: CurrentPrincipal, job_id: uuid.UUID) -> JobRead:
    """Queue a `failed` or `dead` job to run now, with a fresh set of attempts (recorded in the
    audit trail); a job in any other status is a 409 `job.not_retryable`."""
    job = await service.retry_job(session, principal, job_id)
    return JobRead.model_validate(job)
