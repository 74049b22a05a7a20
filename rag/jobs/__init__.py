"""Background work through the write path: the durable job queue in the shared database
(`queue`), the `worker` that claims and runs its jobs, and `watch`, which keeps the index in
step with a folder by submitting jobs.
"""
