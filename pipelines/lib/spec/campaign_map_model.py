"""campaign_map.yaml (optional): links between GA4 campaigns and ad campaigns that no automatic rule finds.

The mart joins GA4 campaigns to ad campaigns by id, then by normalized name. An analyst adds a link here
only for the pairs both rules miss (a campaign renamed on one side, a utm_campaign unrelated to the ad
name); each link is reviewed like code, and the mart records which link made each pair.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from connectors.campaign_key import campaign_key
from pipelines.lib.spec.base import Identifier, Strict, field_error

CAMPAIGN_MAP_FILE = "campaign_map.yaml"


class CampaignRef(Strict):
    """One side of a link: a campaign by id or by name (compared normalized), optionally in one source."""

    source: Identifier | None = Field(default=None, description="a source in sources.yaml; any source if omitted")
    campaign_id: str | None = None
    campaign_name: str | None = Field(default=None, description="compared after normalization (case, accents, ...)")

    @model_validator(mode="after")
    def _one_campaign(self) -> CampaignRef:
        if self.campaign_id is not None and self.campaign_name is not None:
            raise field_error("campaign_name", "give campaign_id or campaign_name, not both")
        if self.campaign_id is None and self.campaign_name is None:
            raise ValueError("give campaign_id or campaign_name")
        if self.campaign_id is not None and not self.campaign_id.strip():
            raise field_error("campaign_id", "campaign_id is empty")
        if self.campaign_name is not None and campaign_key(self.campaign_name) is None:
            raise field_error("campaign_name", f"{self.campaign_name!r} names no campaign")
        return self

    @property
    def key(self) -> str | None:
        """The normalized name the mart compares (None when the side is given by id)."""
        return campaign_key(self.campaign_name)


class CampaignLink(Strict):
    """A GA4 campaign and the ad campaign(s) it belongs with; `note` says why, for the reviewer."""

    ga4: CampaignRef
    ads: CampaignRef
    note: str | None = None


class CampaignMapFile(Strict):
    campaign_map: list[CampaignLink] = Field(default_factory=list)
