"""The outbox: durable background work (webhook deliveries; email next).

The same shape as the message rule, for work that leaves the process:
1. the request's transaction writes the job row beside the change it reports, so a commit
   means "will be done" and a rollback means "never happened" (jobs.py);
2. a worker inside every `serve` process claims due jobs with a lease (PostgreSQL
   `FOR UPDATE SKIP LOCKED`; on SQLite the claim is one BEGIN IMMEDIATE transaction), does
   them outside any transaction, and records each attempt (worker.py);
3. a failure is retried on a schedule; a lease that expires (its instance died) hands the
   job to another instance; finished jobs stay visible to admins for a while, then are
   swept by housekeeping.
Receivers may see a job twice (at least once): each carries a stable `message_id`.

This package knows nothing of webhooks or email: each kind registers a handler that does
one attempt (outbox.worker.Handler).
"""
