"""Every mapped table of the notify database, imported once so ``Base.metadata`` is complete
(Alembic's env and the composition root import this)."""

from __future__ import annotations

from .greetings import models as _greetings
from .messages import models as _messages
from .models import Base
from .policy import models as _policy
from .preferences import models as _preferences
from .templates import models as _templates
from .webhooks import models as _webhooks

__all__ = ["Base"]
_ = (_greetings, _messages, _policy, _preferences, _templates, _webhooks)
