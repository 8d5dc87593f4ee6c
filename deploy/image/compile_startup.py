"""Image build step (Dockerfile, builder stage): write bytecode for the modules a process of
the image imports when it starts, and only those.

`inovasi serve`'s workers, `inovasi worker` and `inovasi migrate` each import about 800 modules
at start; without bytecode every process compiles them again (about 1.3 s of CPU each, and the
non-root user cannot write a cache). Compiling the whole virtual environment would add about
35 MB for modules no process imports (other SQL dialects, test helpers, reload tooling);
what is imported later compiles in memory on first use. The bytecode is checked by hash never
(`UNCHECKED_HASH`): the image's files do not change, and copying them between stages keeps no
timestamps to check against.
"""

from __future__ import annotations

import importlib
import py_compile
import sys
import sysconfig

STARTUP = (
    "app.cli",
    "app.main",
    "app.domains.jobs.builtin",
    "app.domains.jobs.worker",
    "uvicorn.main",
    "uvicorn.loops.uvloop",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.lifespan.on",
    "uvicorn.supervisors.multiprocess",
    "alembic.command",
    "alembic.runtime.migration",
    "alembic.runtime.environment",
)


def main() -> None:
    site = sysconfig.get_paths()["purelib"]
    for name in STARTUP:
        importlib.import_module(name)
    compiled = 0
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None) or ""
        if path.startswith(site) and path.endswith(".py"):
            py_compile.compile(
                path, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
            )
            compiled += 1
    print(f"compile_startup: {compiled} modules compiled under {site}")


if __name__ == "__main__":
    main()
