"""The senders registry file's shape, validated (see rtr.ingest.senders for what it means)."""

import pydantic


class SenderEntry(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    id: str = pydantic.Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    name: str = ""
    sites: list[str] = []
    manufacturing_sites: list[str] = []
    folders: list[str] = []


class RegistryFile(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    senders: list[SenderEntry]

    @pydantic.model_validator(mode="after")
    def _unique_ids(self) -> "RegistryFile":
        ids = [s.id for s in self.senders]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"sender ids must be unique; repeated: {', '.join(repeated)}")
        return self
