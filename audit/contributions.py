"""What the audit app adds to the apps below it (docs/architecture.md#layering), registered when
Django is ready (audit/apps.py)."""

from audit.emergency import with_emergency_grants
from patients.access import READ_GRANTS

READ_GRANTS.append(with_emergency_grants)  # the read-only patient page only (docs/access-log.md#emergency-access)
