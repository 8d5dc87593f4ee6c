"""The policy table: for every operation (by operation id), who may call it and how far.

`PolicyRoute` attaches these to the routes, so a route whose operation id is missing here
cannot be mounted, and the OpenAPI document (`x-access`, "Who may call") and the authorization
matrix test read from this one place. Services enforce the scopes named here.
"""

from __future__ import annotations

from app.core.security import Access, Scope, policy_route_class
from app.models.enums import Role

ALL = Scope.everything
INSTITUTION = Scope.own_institution

_secretariat = {Role.secretariat_admin: ALL}
_institution_admins = {Role.secretariat_admin: ALL, Role.local_admin: INSTITUTION}

# Records a caller of another institution may not know about: 404 outside the scope.
_accounts = Access(
    _institution_admins,
    note="A local admin reaches its own institution's accounts only; it may create unit "
    "operators (and regional_system keys) for its own institution, nothing wider.",
)
_public = Access.public()
_secretariat_only = Access(_secretariat)
# Units are public records: touching another institution's unit is a 403, not a 404.
_unit_managers = Access(_institution_admins, out_of_scope=403)

# The changes feed: an institution's systems and admins, and the secretariat (everything).
_sync_readers = Access(
    {
        Role.secretariat_admin: ALL,
        Role.local_admin: INSTITUTION,
        Role.regional_system: INSTITUTION,
    },
    note="An institution's caller is shown its own institution's records and public ones.",
)

# Batches: an institution's regional system writes its own institution's records.
_sync_pushers = Access(
    {Role.regional_system: INSTITUTION},
    note="Every record a batch writes is the key's institution's; an item naming another "
    "institution's record is reported `invalid`, never applied.",
)

POLICIES: dict[str, Access] = {
    # identity
    "create_access_token": Access(
        anonymous=True, note="Repeated failures for one account or address are throttled (429)."
    ),
    "get_me": Access(dict.fromkeys(Role, Scope.own_account)),
    "change_my_password": Access(
        dict.fromkeys(Role, Scope.own_account),
        note="People only; an API key has no password (403).",
    ),
    "create_user": _accounts,
    "list_users": _accounts,
    "get_user": _accounts,
    "update_user": _accounts,
    "create_api_key": _accounts,
    "list_api_keys": _accounts,
    "get_api_key": _accounts,
    "revoke_api_key": _accounts,
    # audit
    "list_audit_events": Access(
        _institution_admins, note="A local admin sees its own institution's events only."
    ),
    # notifications: a person's own
    **{
        name: Access(
            {role: Scope.own_account for role in Role if role is not Role.regional_system},
            note="People only (an API key gets 403: machine clients use webhooks); each "
            "person sees and changes only their own.",
        )
        for name in (
            "list_notifications",
            "mark_notification_read",
            "mark_all_notifications_read",
            "get_notification_preferences",
            "set_notification_preferences",
        )
    },
    # organiser mail: the secretariat, and a hub's admins for their own hub's audiences
    **{
        name: Access(
            {Role.secretariat_admin: ALL, Role.hub_admin: Scope.own_hub},
            note="A hub admin writes to its own hub's members and to the entrants and "
            "evaluators of the competitions its hub runs, and sees its hub's mailings (others "
            "404); the secretariat writes to any audience.",
        )
        for name in (
            "create_mailing",
            "list_mailings",
            "get_mailing",
            "preview_mailing",
            "send_mailing",
        )
    },
    # the sent log
    "list_email_messages": _secretariat_only,
    # webhooks: machine clients' endpoints, in their owner's scope
    **{
        name: Access(
            {
                Role.secretariat_admin: ALL,
                Role.local_admin: INSTITUTION,
                Role.regional_system: INSTITUTION,
            },
            note="A regional system's key reaches the webhooks it created, a local admin its "
            "institution's (its keys' too), the secretariat every one; another's is a 404. A "
            "webhook receives only events of its institution (the secretariat's may receive all).",
        )
        for name in (
            "create_webhook",
            "list_webhooks",
            "get_webhook",
            "update_webhook",
            "delete_webhook",
            "rotate_webhook_secret",
            "list_webhook_deliveries",
            "redeliver_webhook_delivery",
        )
    },
    # background jobs: the secretariat watches them and retries the dead ones
    "list_jobs": _secretariat_only,
    "get_job": _secretariat_only,
    "retry_job": _secretariat_only,
    # sync
    "list_sync_changes": _sync_readers,
    "list_sync_runs": Access(
        {
            Role.secretariat_admin: ALL,
            Role.local_admin: INSTITUTION,
            Role.regional_system: INSTITUTION,
        },
        note="An institution's caller sees its own institution's runs (403 for another's).",
    ),
    "push_unit_batch": _sync_pushers,
    "push_innovation_batch": _sync_pushers,
    "push_replication_batch": _sync_pushers,
    "push_hub_activity_batch": _sync_pushers,
    "push_mixed_batch": _sync_pushers,
    # regions
    "list_regions": _public,
    "get_region": _public,
    # institutions and units
    "list_institutions": _public,
    "get_institution": _public,
    "create_institution": _secretariat_only,
    "update_institution": _secretariat_only,
    "delete_institution": _secretariat_only,
    "list_units": _public,
    "get_unit": _public,
    "create_unit": _unit_managers,
    "update_unit": _unit_managers,
    "delete_unit": _unit_managers,
}

_innovation_writers = {
    Role.secretariat_admin: ALL,
    Role.local_admin: INSTITUTION,
    Role.unit_operator: Scope.own_unit,
}
_catalogue_read = Access.public(
    "Anonymous callers, evaluators and hub admins see published innovations; unit operators "
    "also their unit's drafts and archived ones, local admins and regional systems their "
    "institution's, the secretariat everything."
)
_document_read = Access.public(
    "Whoever may see the record: a published innovation's documents are public unless "
    "private; a private one, or a draft's, is seen by the innovation's unit, institution and "
    "the secretariat (others 404)."
)
_innovation_write_note = (
    "A draft outside the caller's scope is a 404; a published one (public) is a 403."
)
POLICIES.update(
    {
        # innovations
        "list_innovations": _catalogue_read,
        "get_innovation_facets": _catalogue_read,
        "export_innovations": _catalogue_read,
        "get_innovation": _catalogue_read,
        "create_innovation": Access(
            _innovation_writers,
            out_of_scope=403,
            note="Into the caller's own unit (unit operator) or institution (local admin).",
        ),
        "update_innovation": Access(_innovation_writers, note=_innovation_write_note),
        "delete_innovation": Access(_innovation_writers, note=_innovation_write_note),
        "publish_innovation": Access(_innovation_writers, note=_innovation_write_note),
        # Only a published (public) innovation can be archived: outside the scope it is a 403.
        "archive_innovation": Access(_innovation_writers, out_of_scope=403),
        # documents: a record's, as the record is (README "Documents")
        "list_document_kinds": _public,
        "upload_document": Access(
            _innovation_writers,
            note="Attached to a record the caller may change (an innovation of its unit or "
            "institution); a draft outside its scope is a 404, a published one a 403.",
        ),
        "list_documents": _document_read,
        "get_document": _document_read,
        "get_document_content": _document_read,
        "delete_document": Access(
            _innovation_writers,
            out_of_scope=403,
            note="The documents of a record the caller may change; another's public document "
            "is a 403, a private one or a draft's a 404.",
        ),
        "list_innovation_categories": _public,
        "get_innovation_category": _public,
        "create_innovation_category": _secretariat_only,
        "update_innovation_category": _secretariat_only,
        # stats: published records only, whoever asks
        "get_stats_overview": _public,
        "get_innovation_stats": _public,
        "get_hub_stats": Access.public("Public hubs (designated, active, inactive) only."),
    }
)

_hub_read = Access.public(
    "Designated, active and inactive hubs are public; candidate and committed ones are seen by "
    "the secretariat and the hub's own admins only (404 to everyone else)."
)
_hub_managers = Access(
    {Role.secretariat_admin: ALL, Role.hub_admin: Scope.own_hub},
    out_of_scope=403,
    note="Another hub the caller can see (designated or later) is a 403; a candidate or "
    "committed one a 404.",
)
POLICIES.update(
    {
        # hubs
        "list_hubs": _hub_read,
        "get_hub": _hub_read,
        "create_hub": _secretariat_only,
        "update_hub": Access(
            _hub_managers.rules,
            out_of_scope=403,
            note=_hub_managers.note + " A hub admin changes the name, coordinating unit and "
            "contacts; the pilot flag and the designation are the secretariat's.",
        ),
        "delete_hub": _secretariat_only,
        "transition_hub": Access(
            _secretariat, note="Hub admins edit their hub's profile, never its status."
        ),
        "list_hub_members": _hub_read,
        "get_hub_member": _hub_read,
        "add_hub_member": _hub_managers,
        "end_hub_membership": _hub_managers,
        # hub activities: the hub's managers write them and see drafts
        "list_hub_activities": Access.public(
            "Published activities of the hubs the caller sees; drafts for the secretariat and "
            "the hub's own admins only."
        ),
        "get_hub_activity": Access.public(
            "A published activity of a hub the caller sees; a draft is a 404 outside the "
            "secretariat and the hub's own admins."
        ),
        "create_hub_activity": _hub_managers,
        "update_hub_activity": _hub_managers,
        "delete_hub_activity": _hub_managers,
        "transition_hub_activity": _hub_managers,
        # maturity instruments: the secretariat's; published revisions are public
        "list_maturity_instruments": Access.public(
            "Published and retired revisions; drafts for the secretariat only."
        ),
        "get_maturity_instrument": Access.public(
            "A published or retired revision; a draft is a 404 outside the secretariat."
        ),
        "create_maturity_instrument": _secretariat_only,
        "update_maturity_instrument": _secretariat_only,
        "delete_maturity_instrument": _secretariat_only,
        "transition_maturity_instrument": _secretariat_only,
    }
)

# Maturity assessments: the hub answers for itself and the secretariat verifies, so neither
# does the other's part.
_self_assessors = Access(
    {Role.hub_admin: Scope.own_hub},
    out_of_scope=403,
    note="The hub's own admins answer its assessment; the secretariat verifies it and does "
    "not answer for the hub. Another hub the caller can see is a 403; a candidate or "
    "committed one a 404.",
)
_assessment_read = Access.public(
    "Verified assessments of the hubs the caller sees; drafts, submitted and returned ones for "
    "the secretariat and the hub's own admins only (404 to everyone else)."
)
POLICIES.update(
    {
        "list_hub_assessments": _assessment_read,
        "get_hub_assessment": _assessment_read,
        "create_hub_assessment": _self_assessors,
        "delete_hub_assessment": _self_assessors,
        "put_hub_assessment_answers": _self_assessors,
        "submit_hub_assessment": _self_assessors,
        "review_hub_assessment": Access(
            _secretariat, note="The secretariat verifies; the hub's own admins cannot."
        ),
    }
)

# Competitions: the secretariat runs national and monitoring editions, a regional hub's admins
# their hub's provincial ones. Every edition past its draft is public.
_competition_read = Access.public(
    "Editions past their draft, with their structure; a draft only for the secretariat and, "
    "for a provincial edition, its hub's admins (404 to everyone else)."
)
_competition_runners = Access(
    {Role.secretariat_admin: ALL, Role.hub_admin: Scope.own_hub},
    out_of_scope=403,
    note="A hub admin runs its own hub's provincial competitions; another edition it can see "
    "is a 403, another hub's draft a 404.",
)
_structure_note = " The rules and structure change only while the edition is a draft (409)."
POLICIES.update(
    {
        "list_competitions": _competition_read,
        "get_competition": _competition_read,
        "create_competition": Access(
            {Role.secretariat_admin: ALL, Role.hub_admin: Scope.own_hub},
            note="The secretariat creates national and monitoring editions; a hub admin a "
            "provincial one run by its own active regional hub.",
        ),
        "update_competition": _competition_runners,
        "delete_competition": _competition_runners,
        "get_competition_readiness": _competition_runners,
        "transition_competition": _competition_runners,
    }
    | dict.fromkeys(
        (
            "list_competition_groups",
            "list_competition_categories",
            "list_competition_rounds",
            "get_competition_group",
            "get_competition_category",
            "get_round",
            "list_round_criteria",
            "get_round_criterion",
        ),
        _competition_read,
    )
    | {
        name: Access(
            _competition_runners.rules,
            out_of_scope=403,
            note=_competition_runners.note + _structure_note,
        )
        for name in (
            "create_competition_group",
            "update_competition_group",
            "delete_competition_group",
            "create_competition_category",
            "update_competition_category",
            "delete_competition_category",
            "create_competition_round",
            "update_round",
            "delete_round",
            "create_round_criterion",
            "update_round_criterion",
            "delete_round_criterion",
        )
    }
)

# Submissions: the institution writes and sends its entries, the organiser screens them.
_entry_writers = Access(
    {Role.unit_operator: Scope.own_unit, Role.local_admin: INSTITUTION},
    out_of_scope=403,
    note="A unit operator enters its own unit's innovations, a local admin its institution's; "
    "an entry the caller sees but does not write is a 403, one it cannot see a 404.",
)
_entry_read = Access.public(
    "The secretariat sees every entry; a hub admin the entries of the editions its hub runs; "
    "unit operators, local admins and regional systems their own institution's; everyone the "
    "screened-in (and since evaluated) entries of editions whose results are published (404 "
    "otherwise)."
)
POLICIES.update(
    {
        "list_submissions": _entry_read,
        "get_submission": _entry_read,
        "create_submission": _entry_writers,
        "update_submission": _entry_writers,
        "delete_submission": _entry_writers,
        "transition_submission": Access(
            {
                Role.unit_operator: Scope.own_unit,
                Role.local_admin: INSTITUTION,
                Role.secretariat_admin: ALL,
                Role.hub_admin: Scope.own_hub,
            },
            out_of_scope=403,
            note="`submit` and `withdraw`: the entry's unit operators and local admins; "
            "`approve` and `return`: its institution's local admins; `screen`: whoever runs "
            "the edition (the secretariat, or the hub's admins for its provincial edition).",
        ),
        "export_submissions": Access(
            _competition_runners.rules,
            out_of_scope=403,
            note="Whoever runs the edition: the secretariat, or the hub's admins for its "
            "provincial edition.",
        ),
    }
)

# Evaluation: whoever runs the edition assigns, ranks and closes; evaluators score their own.
_evaluation_runners = Access(
    _competition_runners.rules,
    out_of_scope=403,
    note="Whoever runs the edition: the secretariat, or the hub's admins for its provincial "
    "edition; another edition the caller can see is a 403.",
)
_own_assignment = Access(
    {Role.evaluator: Scope.own_assignments},
    note="The assigned evaluator only; another evaluator's assignment is a 404, and the "
    "organiser does not score for an evaluator (403).",
)
POLICIES.update(
    {
        "list_round_assignments": Access(
            {**_competition_runners.rules, Role.evaluator: Scope.own_assignments},
            out_of_scope=403,
            note="The organiser sees every assignment of the round; an evaluator its own only.",
        ),
        "create_assignment": _evaluation_runners,
        "auto_assign_round": _evaluation_runners,
        "get_assignment": Access(
            {**_competition_runners.rules, Role.evaluator: Scope.own_assignments},
            note="The assigned evaluator and whoever runs the edition; 404 to everyone else, "
            "so an evaluator never sees another's scores.",
        ),
        "reassign_assignment": Access(
            _competition_runners.rules,
            note="Whoever runs the edition; 404 for an edition's assignment the caller does not "
            "run.",
        ),
        "recuse_assignment": _own_assignment,
        "put_assignment_scores": _own_assignment,
        "get_round_ranking": _evaluation_runners,
        "close_round": _evaluation_runners,
    }
)

# Results: the organiser announces and decides; anyone reads announcements and awards and may
# object during a window.
POLICIES.update(
    {
        "list_competition_announcements": _competition_read,
        "get_announcement": _competition_read,
        "create_announcement": _evaluation_runners,
        "file_objection": Access.public(
            "Anyone, while the announcement's objection window is open (409 after it)."
        ),
        "list_announcement_objections": _evaluation_runners,
        "get_objection": Access(
            _competition_runners.rules,
            note="Whoever runs the edition; 404 to everyone else (filers' contacts are private).",
        ),
        "review_objection": Access(
            _competition_runners.rules,
            note="Whoever runs the edition; 404 to everyone else.",
        ),
        "list_awards": _public,
        "get_award": _public,
        "create_award": Access(
            _secretariat, note="Historic awards only; decreed results create their own."
        ),
        "list_innovation_awards": _catalogue_read,
        "get_competition_funnel": Access.public(
            "Anyone once the edition's results are published; before that whoever runs it "
            "(403 to others: the counts would reveal unannounced outcomes)."
        ),
    }
)

# Anonymous operations that write (everything else anonymous is a read).
ANONYMOUS_WRITES = frozenset({"create_access_token", "file_objection"})


# Replications: each side acts on its side (docs/replications.md); reads as the catalogue.
_replication_sides = Access(
    {Role.unit_operator: Scope.own_unit, Role.local_admin: INSTITUTION},
    out_of_scope=403,
    note="The adopter side (the adopter unit's operators, the adopter institution's local "
    "admins) requests and writes a replication; the source side (the same for the source) "
    "approves or rejects it; either side signs the agreement or discontinues it. A "
    "replication the caller sees but may not act on is a 403, one it cannot see a 404.",
)
_replication_read = Access.public(
    "The secretariat sees every replication; unit operators, local admins and regional systems "
    "those whose source or adopter institution is theirs; a hub admin those its hub "
    "facilitates; everyone the approved replications of published innovations (404 otherwise)."
)
POLICIES.update(
    {
        "list_replications": _replication_read,
        "get_replication": _replication_read,
        "create_replication": _replication_sides,
        "update_replication": _replication_sides,
        "delete_replication": _replication_sides,
        "transition_replication": _replication_sides,
        "get_innovation_lineage": _catalogue_read,
        "get_replication_stats": _public,
        "list_similar_innovations": _catalogue_read,
    }
)

PolicyRoute = policy_route_class(POLICIES)
