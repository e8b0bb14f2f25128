"""A Panoptes stand-in: the subset of Zooniverse's API that panoptes-client 1.7 uses, served on loopback.

It keeps its state in memory and speaks as Panoptes does: the sign-in and OAuth token flow,
JSON:API envelopes with string ids, an ``ETag`` on every resource reply and ``If-Match`` checks
on PUT, upload URLs for subject media, and classification / workflow exports that are generated
and then polled until ready. Tests start it with ``StandinServer``; ``manage.py panoptes_standin``
runs it for trying the sync by hand. Faults (a 5xx on a chosen request) can be planned with
``fail_next`` to check that a sync stopped half-way leaves the platform consistent.

It is plain WSGI with no Django, so that the platform and the stand-in share nothing but HTTP.
"""

from .app import PanoptesStandin
from .server import StandinServer
from .state import PlannedFault, StandinState
from .wire import ApiError

__all__ = ["ApiError", "PanoptesStandin", "PlannedFault", "StandinServer", "StandinState"]
