"""Per-sample limits and settings of the bubblewrap sandbox."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class BwrapSandboxConfig(BaseModel, frozen=True):
    """What one sandbox may use. Every exec runs under all of these at once.

    Pass it as `sandbox=("bwrap", BwrapSandboxConfig(...))` to an Inspect task, or leave it out
    for the defaults.
    """

    cpu_seconds: int = Field(10, gt=0, description="RLIMIT_CPU per exec")
    memory_mb: int = Field(1024, gt=0, description="RLIMIT_AS (address space) per process")
    file_size_mb: int = Field(64, gt=0, description="RLIMIT_FSIZE: largest file a process may write")
    processes: int = Field(64, gt=0, description="RLIMIT_NPROC inside the sandbox's user namespace")
    open_files: int = Field(256, gt=0, description="RLIMIT_NOFILE")
    timeout_s: int = Field(30, gt=0, description="wall-clock limit of one exec (a shorter exec timeout wins)")
    output_bytes: int = Field(1 << 20, gt=0, description="cap on each of stdout and stderr per exec")
    workspace_mb: int = Field(256, gt=0, description="disk quota of the workspace, enforced while an exec runs")
    tmp_mb: int = Field(64, gt=0, description="size of the tmpfs mounted on /tmp")
    host_uid: int = Field(65534, ge=1, description="when run as root, the host uid (and gid) bwrap runs as; "
                          "root would be exempt from the process limit and own every root-owned file")
    quota_poll_s: float = Field(0.02, gt=0, description="how often the workspace size is checked during an exec")

    @classmethod
    def coerce(cls, config: Any) -> BwrapSandboxConfig:
        if config is None:
            return cls()
        if isinstance(config, cls):
            return config
        if isinstance(config, dict):
            return cls(**config)
        if isinstance(config, BaseModel):
            return cls(**config.model_dump())
        from overseer.errors import ConfigurationError

        raise ConfigurationError(
            f"the bwrap sandbox takes a BwrapSandboxConfig or a dict, got {type(config).__name__}; "
            "pass sandbox=('bwrap', BwrapSandboxConfig(...)) or just sandbox='bwrap'."
        )
