"""Mail, written once for every service (docs/mail.md): what the CRM's sequences and the ERP's invoices send.

- `outbox`: the mail outbox table (a service's metadata and migration), `stage_mail` in the caller's transaction;
- `messages`: building the MIME message (text and HTML, attachments, Message-ID, List-Unsubscribe);
- `templates`: Jinja2 templates in a sandbox, checked when saved (`TemplateProblem` names the line);
- `links`: signed, expiring public links (403 forged or altered, 410 expired);
- `sender`: the background job that delivers the outbox over SMTP, and its readiness;
- `settings`: the settings a service that sends mail adds;
- `mailbox`: the development mailbox the embedded SMTP server writes (`.eml` files), for the "Sent mail" page.

Import the module you need: this package imports nothing itself, so that the SMTP server of the dev stack can
use `mailbox` (standard library only) without loading the rest.
"""
