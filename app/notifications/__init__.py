"""E-mail notifications: a transactional outbox in the database, sent through Brevo by a worker.

- `catalog` and `emails/`: the e-mails themselves (en/fr/nl bodies, subjects), which infra provisions in Brevo;
- `templates`: which Brevo template each notification kind uses, and its parameters per language;
- `brevo_client`: the runtime HTTP client (POST /smtp/email, event lookup);
- `sink`: the local stand-in that writes e-mails to `.nexk/mail-sink/` instead of sending them;
- `outbox`: claim, send, mark, retry (exactly-once rules live here);
- `worker`: one pass (`run_once`) and the periodic SLA scan;
- `webhook`: Brevo's delivery events applied to the outbox;
- `connection`: the `nexk_notifier` database connection (NEXK_WORKER_DATABASE_URL) the entry points use;
- `cron`: the Vercel Cron entry point (`run_cron`: bearer CRON_SECRET, SLA scan, one outbox pass).
"""
