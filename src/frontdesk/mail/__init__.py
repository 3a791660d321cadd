"""Email both ways (contract section 8), on the outbox.

How a cause becomes an email:
1. queue.py, called inside the transaction of every message and new conversation
   (db.Database.before_commit), writes a *compose* job: `email.new_conversation` at once,
   `email.unanswered` and `email.replies` due FRONTDESK_EMAIL_DELAY_SECONDS later, at most
   one pending per conversation (EmailConversation's `*_due_us`), so messages within one
   delay are batched; transcripts (routes.py) write `email.transcript` themselves.
2. compose.py, the outbox's handler for those, re-reads the conversation when the job is
   due, decides what (if anything) still needs saying, and in one transaction writes one
   `email.send` job per recipient (the rendered email) and moves the watermarks.
3. sender.py sends an `email.send` job over SMTP; the worker retries it on the schedule.
Composing is thus done once, and sending at least once, with a Message-ID stable across
retries. inbound.py turns a reply into a message; receiver.py is its SMTP door.

With FRONTDESK_SMTP_URL unset none of this runs: nothing is queued.
"""
