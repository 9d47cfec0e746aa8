"""The superuser's view: users, organizations and sessions of everyone.

No HTTP here; the routes check that the caller is a superuser. Changes to users go through
the :class:`~.manager.UserManager` where it holds the rule (password policy, email
uniqueness, deactivation revokes sessions), so hooks fire as for self-service changes.
An admin never deactivates, demotes or deletes their own account (403), so a superuser
cannot lock themselves out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.emails import normalize_email
from sanic_auth_sessions.core.models import (
    EmailToken,
    Membership,
    Organization,
    PasswordResetToken,
    User,
    UserSession,
)
from sanic_auth_sessions.db.connection import transaction
from sanic_auth_sessions.db.pagination import (
    CursorSigner,
    Keyset,
    KeysetPageQuery,
    Page,
    PageQuery,
    paginate,
    paginate_keyset,
)
from sanic_auth_sessions.db.search import with_short_words_indexed
from sanic_auth_sessions.services.manager import UserManager, utcnow
from sanic_auth_sessions.services.organizations import OrganizationService, OrganizationView
from sanic_auth_sessions.services.stats import AdminStats, admin_stats

BulkAction = Literal["activate", "deactivate", "delete"]
SortOrder = Literal["asc", "desc"]

SESSION_ORDER = Keyset("admin.sessions", ("last_used_at", "id"), descending=True)
MAX_SEARCH_TERMS = 5


def search_words(search: str) -> list[str]:
    """The words of a search, normalized as emails are (NFKC, lower-cased)."""
    return normalize_email(search).split()[:MAX_SEARCH_TERMS]


def user_search(search: str) -> Q:
    """Every word must appear (case-insensitively) in the email, first or last name.

    Emails are stored lower-cased, so the email part is a plain ``LIKE`` on the lower-cased
    term (which the trigram index on PostgreSQL serves); names keep their case and are
    compared with ``icontains`` (served by the names' trigram indexes). Words of 1 or 2
    characters also get the condition of :mod:`.search` on PostgreSQL.
    """
    terms = search_words(search)
    return Q(
        *(
            Q(email__contains=term) | Q(first_name__icontains=term) | Q(last_name__icontains=term)
            for term in terms
        )
    )


@dataclass(frozen=True)
class BulkResult:
    affected: list[UUID]
    failed: list[UUID]


class AdminService:
    def __init__(self, manager: UserManager, organizations: OrganizationService) -> None:
        self.manager = manager
        self.organizations = organizations

    @property
    def cursor_signer(self) -> CursorSigner:
        """Signs the cursors of the keyset lists (a key derived from ``AUTH_SECRET_KEY``)."""
        return CursorSigner.from_secret(self.manager.settings.secret_key)

    async def stats(self) -> AdminStats:
        """The dashboard's numbers, in three grouped queries (see :mod:`.stats`)."""
        return await admin_stats()

    # --- users --------------------------------------------------------------------------

    async def list_users(
        self,
        params: KeysetPageQuery,
        *,
        search: str | None = None,
        is_active: bool | None = None,
        is_superuser: bool | None = None,
        is_verified: bool | None = None,
        sort_by: str = "created_at",
        sort_order: SortOrder = "desc",
    ) -> Page[User]:
        query = User.all()
        if search:
            query = with_short_words_indexed(
                query.filter(user_search(search)), search_words(search)
            )
        if is_active is not None:
            query = query.filter(is_active=is_active)
        if is_superuser is not None:
            query = query.filter(is_superuser=is_superuser)
        if is_verified is not None:
            query = query.filter(is_verified=is_verified)
        order = Keyset("admin.users", (sort_by, "id"), descending=sort_order == "desc")
        return await paginate_keyset(query, params, keyset=order, signer=self.cursor_signer)

    async def create_user(self, admin: User, **fields: Any) -> User:
        """``UserManager.create_user`` (same fields and rules), recorded as an admin action."""
        user = await self.manager.create_user(**fields)
        await self.manager.audit("admin.user_created", user_id=admin.id, target_user_id=user.id)
        return user

    async def get_user(self, user_id: UUID) -> User:
        user = await User.get_or_none(id=user_id)
        if user is None:
            raise errors.NotFound("User not found.")
        return user

    async def update_user(self, admin: User, user_id: UUID, changes: dict[str, Any]) -> User:
        """Apply ``email, first_name, last_name, is_active, is_superuser, is_verified,
        password``.

        A new password or ``is_active: false`` revokes every session of the user at once. A
        new email is unverified unless ``is_verified`` is given too.
        """
        if user_id == admin.id and (
            changes.get("is_active") is False or changes.get("is_superuser") is False
        ):
            raise errors.CannotTargetSelf("You cannot deactivate or demote your own account.")
        user = await self.get_user(user_id)
        requested = sorted(changes)  # field names only: never a password in an event
        changes = dict(changes)
        password = changes.pop("password", None)
        is_active = changes.pop("is_active", None)
        is_superuser = changes.pop("is_superuser", None)
        if password is not None:
            names = (
                changes.get("first_name", user.first_name),
                changes.get("last_name", user.last_name),
            )
            email = changes.get("email", user.email)
            await self.manager.validate_password(password, user_inputs=(email, *names))
        hashed = await self.manager.hasher.hash(password) if password is not None else None
        async with transaction():
            if changes:
                await self.manager.update_profile(user, changes)
            flags: dict[str, Any] = {}
            if is_superuser is not None and is_superuser != user.is_superuser:
                flags["is_superuser"] = is_superuser
            if is_active is True and not user.is_active:
                flags["is_active"] = True
            if hashed is not None:
                flags["hashed_password"] = hashed
            if flags:
                await self.manager.save_user(user, **flags)  # a new password: a new stamp
            if hashed is not None:
                await self.manager.revoke_user_sessions(user.id)
            if is_active is False and user.is_active:
                await self.manager.deactivate(user)
        await self.manager.audit(
            "admin.user_updated", user_id=admin.id, target_user_id=user_id, fields=requested
        )
        return user

    async def set_active(self, admin: User, user_id: UUID, active: bool) -> User:
        if user_id == admin.id:
            raise errors.CannotTargetSelf("You cannot activate or deactivate your own account.")
        user = await self.get_user(user_id)
        if not active:
            await self.manager.deactivate(user)
        elif not user.is_active:
            await self.manager.save_user(user, is_active=True)
        event = "admin.user_activated" if active else "admin.user_deactivated"
        await self.manager.audit(event, user_id=admin.id, target_user_id=user_id)
        return await self.get_user(user_id)  # the row as stored

    async def delete_user(self, admin: User, user_id: UUID) -> User:
        """Delete a user with their sessions, memberships and reset tokens; the deleted row
        is returned.

        409 when they are the last owner of an organization; never the caller (403).
        """
        if user_id == admin.id:
            raise errors.CannotTargetSelf("You cannot delete your own account.")
        user = await self._delete(user_id)
        if user is None:
            raise errors.NotFound("User not found.")
        await self.manager.audit("admin.user_deleted", user_id=admin.id, target_user_id=user_id)
        return user

    async def _delete(self, user_id: UUID) -> User | None:
        """The deleted user, or None if there was none with this id."""
        async with transaction():
            user = await User.get_or_none(id=user_id)
            if user is None:
                return None
            await self.organizations.check_user_removable(user_id)
            await UserSession.filter(user_id=user_id).delete()
            await Membership.filter(user_id=user_id).delete()
            await PasswordResetToken.filter(user_id=user_id).delete()
            await EmailToken.filter(user_id=user_id).delete()
            deleted: int = await User.filter(id=user_id).delete()
        return user if deleted else None  # None: deleted meanwhile by another request

    async def bulk_action(
        self, admin: User, action: BulkAction, user_ids: list[UUID]
    ) -> BulkResult:
        """Apply ``action`` to up to 100 users.

        Every requested id (duplicates removed) is either changed by this call or listed in
        ``failed_ids``: unknown ids, the caller, users already in the wanted state and, for
        ``delete``, last owners of an organization.
        """
        ids = list(dict.fromkeys(user_ids))
        targets = [uid for uid in ids if uid != admin.id]
        changed = await self._bulk(action, targets) if targets else set()
        result = BulkResult(
            affected=[uid for uid in ids if uid in changed],
            failed=[uid for uid in ids if uid not in changed],
        )
        await self.manager.audit(
            "admin.bulk_action",
            user_id=admin.id,
            action=action,
            affected_count=len(result.affected),
            failed_count=len(result.failed),
        )
        return result

    async def _bulk(self, action: BulkAction, ids: list[UUID]) -> set[UUID]:
        """The ids this action changed."""
        if action == "activate":
            activated = {
                user.id for user in await User.filter(id__in=ids, is_active=False).only("id")
            }
            if activated:
                await User.filter(id__in=list(activated), is_active=False).update(
                    is_active=True, updated_at=utcnow()
                )
            return activated
        changed: set[UUID] = set()
        if action == "deactivate":
            for user in await User.filter(id__in=ids, is_active=True):
                await self.manager.deactivate(user)
                changed.add(user.id)
            return changed
        for user_id in ids:
            try:
                if await self._delete(user_id) is not None:
                    changed.add(user_id)
            except errors.LastOwner:
                continue
        return changed

    # --- organizations ------------------------------------------------------------------

    async def list_organizations(
        self, params: PageQuery, *, search: str | None = None, is_active: bool | None = None
    ) -> Page[Organization]:
        """Organizations, newest first, each with ``member_count`` from the same query."""
        query = Organization.all()
        if search:
            query = query.filter(Q(name__icontains=search) | Q(slug__icontains=search.lower()))
        if is_active is not None:
            query = query.filter(is_active=is_active)

        def with_member_count(q: QuerySet[Organization]) -> QuerySet[Organization]:
            return q.annotate(member_count=Count("memberships"))

        return await paginate(
            query, params, order_by=("-created_at", "id"), select=with_member_count
        )

    async def create_organization(
        self,
        admin: User,
        *,
        name: str,
        slug: str | None = None,
        description: str | None = None,
        owner_email: str | None = None,
    ) -> OrganizationView:
        """Without ``owner_email`` the organization starts with no member."""
        owner = None
        if owner_email is not None:
            owner = await User.get_or_none(email=normalize_email(owner_email))
            if owner is None:
                raise errors.NotFound("No user has this email.", field="owner_email")
        organization = await self.organizations.create(
            name=name, slug=slug, description=description, owner=owner
        )
        await self.manager.audit(
            "admin.organization_created", user_id=admin.id, organization_id=organization.id
        )
        return OrganizationView(organization, member_count=1 if owner else 0, role=None)

    # --- sessions -----------------------------------------------------------------------

    async def list_sessions(
        self,
        params: KeysetPageQuery,
        *,
        is_active: bool = True,
        user_id: UUID | None = None,
        search: str | None = None,
    ) -> Page[UserSession]:
        """Sessions, most recently used first, each with its ``user`` from the same query.

        Active means not revoked and not expired. ``search`` matches part of the user's email,
        case-insensitively: emails are stored lower-cased, so it is ``email LIKE '%term%'`` on
        the lower-cased term. On PostgreSQL the trigram index of the migrations finds the
        matching users (terms of 3+ characters), and their sessions come from the
        ``(user_id, is_active, last_used_at)`` index.
        """
        now = utcnow()
        if is_active:
            query = UserSession.filter(is_active=True, expires_at__gt=now)
        else:
            query = UserSession.filter(Q(is_active=False) | Q(expires_at__lte=now))
        if user_id is not None:
            query = query.filter(user_id=user_id)
        if search:
            query = query.filter(user__email__contains=search.lower())

        def with_user(q: QuerySet[UserSession]) -> QuerySet[UserSession]:
            return q.select_related("user")

        return await paginate_keyset(
            query, params, keyset=SESSION_ORDER, signer=self.cursor_signer, select=with_user
        )

    async def revoke_session(self, session_id: UUID, *, admin: User | None = None) -> None:
        """Revoke any user's session; its access token fails on the next request."""
        owner = await UserSession.filter(id=session_id).first().values_list("user_id", flat=True)
        found = await UserSession.filter(id=session_id).update(is_active=False, updated_at=utcnow())
        if not found:
            raise errors.NotFound("Session not found.")
        await self.manager.audit(
            "admin.session_revoked",
            user_id=admin.id if admin else None,
            session_id=session_id,
            target_user_id=owner,
        )
