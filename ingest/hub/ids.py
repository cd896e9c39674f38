"""The Hub's repo-id rule moved to observatory/vocab.py (HUB_ID, is_hub_id, hub_id_key, ...).

Nothing is defined here. These names stay only while ingest/hub_records/ (being split out in
parallel) still imports this module; delete the file once it reads observatory.vocab.
"""

from observatory.vocab import HUB_ID, HUB_ID_OR_LEGACY, is_hub_id
from observatory.vocab import hub_id_key as key

__all__ = ["HUB_ID", "HUB_ID_OR_LEGACY", "is_hub_id", "key"]
