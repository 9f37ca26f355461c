"""Sites (installations that sync), the stores active on them, and the users of the mobile login."""

import uuid

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models

PRIMARY_SITE_ID = 1


def new_record_id() -> str:
    """A new id in the shape mSupply uses: 32 uppercase hex digits."""
    return uuid.uuid4().hex.upper()


class PasswordMixin(models.Model):
    """A password stored as Django's slow salted hash of the SHA-256 hex that clients send.

    Clients never send the password itself, only `sha256(password)` in lowercase hex, so that hex is the
    secret we hash; a stolen database still does not give out what the client sends.
    """

    password_hash = models.CharField(max_length=256, blank=True, editable=False)

    class Meta:
        abstract = True

    def set_password_sha256(self, sha256_hex: str) -> None:
        self.password_hash = make_password(sha256_hex.lower())

    def check_password_sha256(self, sha256_hex: str) -> bool:
        if not self.password_hash:
            return False
        return check_password(sha256_hex.lower(), self.password_hash)


class Site(PasswordMixin):
    id = models.PositiveIntegerField(primary_key=True, help_text="The site's number; the primary is 1.")
    name = models.CharField(max_length=100, unique=True, help_text="The user name the site logs in with.")
    is_active = models.BooleanField(default=True)
    hardware_id = models.CharField(
        max_length=200,
        blank=True,
        help_text="The msupply-site-uuid of the device bound to this site; empty until its first sync.",
    )
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"

    @property
    def is_primary(self) -> bool:
        return self.id == PRIMARY_SITE_ID


class Store(models.Model):
    id = models.CharField(max_length=100, primary_key=True)
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=50, blank=True)
    name_id = models.CharField(
        max_length=100, db_index=True, help_text="The store's entry in the `name` table (name_ID)."
    )
    site = models.ForeignKey(
        Site,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stores",
        help_text="The site where the store is active; a store is active on at most one site.",
    )
    supplying_store = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supplied_stores"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class SyncUser(PasswordMixin):
    """A person who logs in to the mobile app (GET /sync/v3/user)."""

    id = models.CharField(max_length=100, primary_key=True, default=new_record_id)
    username = models.CharField(max_length=150, unique=True)
    stores = models.ManyToManyField(Store, blank=True, related_name="users")
    is_admin = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["username"]
        verbose_name = "sync user"

    def __str__(self) -> str:
        return self.username


# What an API key may be used for; each API that takes keys names the one it needs.
API_KEY_SCOPES: dict[str, str] = {
    "settings": "Settings documents (POST /api/v1/sync/update)",
    "schedules": "Scheduled imports API",
}


class ApiKey(models.Model):
    """A credential for the non-sync APIs: `ssk_<prefix>_<secret>`, shown once when it is made.

    Only the prefix (to find the row) and the SHA-256 of the secret are stored: the secret is 256 random
    bits, so a fast hash is as safe as a slow one here and keeps each request to one indexed read.
    """

    name = models.CharField(max_length=100, help_text="What the key is for, e.g. the device or service.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.CharField(
        max_length=200, help_text="Comma-separated: " + ", ".join(sorted(API_KEY_SCOPES)) + "."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_keys",
        help_text="The operator account the key acts for (needed by APIs that act as a staff user).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (ssk_{self.prefix}_…)"

    @property
    def scope_list(self) -> list[str]:
        return [s for s in (part.strip() for part in self.scopes.split(",")) if s]

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope_list

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class LoginFailure(models.Model):
    """Failed logins counted in the database, so every worker and host sees the same count.

    One row per (name, client address) and one per address alone (name ""): a name is locked only
    for the address its failures came from, so an attacker elsewhere cannot lock its owner out.
    """

    name = models.CharField(max_length=150, blank=True, help_text="The login name tried; empty: any.")
    address = models.CharField(max_length=45, help_text="The client address the failures came from.")
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    last_failure_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "address"], name="login_failure_unique")]
        indexes = [models.Index(fields=["last_failure_at"], name="login_failure_last_idx")]
        ordering = ["-last_failure_at"]

    def __str__(self) -> str:
        return f"{self.name or '(any name)'} from {self.address}: {self.failures}"
