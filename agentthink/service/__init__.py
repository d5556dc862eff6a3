"""agentthink as a service: durable runs executed by workers, an HTTP API with live events,
an OpenAI-compatible endpoint and a run viewer (the ``service`` extra; ``postgres`` for many
workers).

::

    from agentthink.service import ServiceSettings, create_app
    app = create_app(ServiceSettings(database="sqlite:///runs.sqlite"))  # serve with uvicorn
"""

from agentthink.service.app import create_app
from agentthink.service.service import Service
from agentthink.service.settings import ApiKey, ServiceSettings, load_service_settings

__all__ = ["ApiKey", "Service", "ServiceSettings", "create_app", "load_service_settings"]
