"""ORM tables, one module per aggregate. Importing this package registers them all."""

from app.models.accounts import ApiKey, User
from app.models.audit import AuditEvent
from app.models.competitions import (
    Competition,
    CompetitionCategory,
    CompetitionGroup,
    CompetitionRound,
    RoundCriterion,
)
from app.models.documents import Document
from app.models.evaluation import Assignment, AssignmentScore, EvaluatorConflict, RoundResult
from app.models.hubs import (
    Hub,
    HubActivity,
    HubActivityInnovation,
    HubActivityParticipant,
    HubMember,
)
from app.models.innovations import Innovation, InnovationCategory, InnovationWord
from app.models.institutions import Institution, Unit
from app.models.jobs import Job
from app.models.maturity import MaturityAnswer, MaturityAssessment, MaturityInstrument
from app.models.notifications import (
    EmailMessage,
    Mailing,
    Notification,
    NotificationEvent,
    NotificationPreference,
    NotificationState,
)
from app.models.ratelimit import RateLimitCounter
from app.models.regions import Region
from app.models.replications import Replication
from app.models.results import Announcement, Objection
from app.models.submissions import Award, Submission, SubmissionAnswer
from app.models.sync import IdempotencyKey, SyncChange, SyncHorizon, SyncRun
from app.models.webhooks import Webhook, WebhookAttempt, WebhookDelivery, WebhookFeedCursor

__all__ = [
    "Announcement",
    "ApiKey",
    "Assignment",
    "AssignmentScore",
    "AuditEvent",
    "Award",
    "Competition",
    "CompetitionCategory",
    "CompetitionGroup",
    "CompetitionRound",
    "Document",
    "EmailMessage",
    "EvaluatorConflict",
    "Hub",
    "HubActivity",
    "HubActivityInnovation",
    "HubActivityParticipant",
    "HubMember",
    "IdempotencyKey",
    "Innovation",
    "InnovationCategory",
    "InnovationWord",
    "Institution",
    "Job",
    "Mailing",
    "MaturityAnswer",
    "MaturityAssessment",
    "MaturityInstrument",
    "Notification",
    "NotificationEvent",
    "NotificationPreference",
    "NotificationState",
    "Objection",
    "RateLimitCounter",
    "Region",
    "Replication",
    "RoundCriterion",
    "RoundResult",
    "Submission",
    "SubmissionAnswer",
    "SyncChange",
    "SyncHorizon",
    "SyncRun",
    "Unit",
    "User",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookFeedCursor",
]
