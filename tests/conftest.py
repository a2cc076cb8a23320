import os
import shutil

import pytest

INSTALL_HINT = ("apt-get install gcc g++ iverilog verilator yosys nextpnr-ice40 gcc-avr avr-libc "
                "simavr")


def require_tool(name: str) -> str:
    """Path of an external tool; skip when missing, or fail under LUTGEN_REQUIRE_TOOLS=1 (CI)."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed ({INSTALL_HINT})"
    if os.environ.get("LUTGEN_REQUIRE_TOOLS") == "1":
        pytest.fail(message + "; LUTGEN_REQUIRE_TOOLS=1 makes this a failure")
    pytest.skip(message)


def require_module(name: str, hint: str | None = None, extra: str = "torch"):
    """Import an optional Python package; skip when missing, or fail under
    LUTGEN_REQUIRE_TOOLS=1 (CI installs the extras: a missing one is a broken setup)."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        hint = hint or f"pip install -e '.[{extra}]'"
        message = f"{name} is not installed ({hint})"
        if os.environ.get("LUTGEN_REQUIRE_TOOLS") == "1":
            pytest.fail(message + "; LUTGEN_REQUIRE_TOOLS=1 makes this a failure", pytrace=False)
        pytest.skip(message, allow_module_level=True)
