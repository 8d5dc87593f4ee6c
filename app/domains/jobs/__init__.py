"""Background jobs: rows in PostgreSQL written in the caller's transaction (`service.enqueue`),
run by `inovasi worker` (`worker.Worker`) with retries, backoff, leases and schedules."""
