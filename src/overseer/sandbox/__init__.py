"""The `bwrap` sandbox: bubblewrap around one sample's workspace, registered with Inspect.

Importing `overseer.sandbox.environment` registers it (overseer's Inspect entry point does so);
`BwrapSandboxConfig` sets its limits.
"""

from overseer.sandbox.command import bwrap_path, check_bwrap
from overseer.sandbox.limits import BwrapSandboxConfig

__all__ = ["BwrapSandboxConfig", "bwrap_path", "check_bwrap"]
