"""oneDNN is asked for on x86 unless the user chose, and the choice is reported."""

import subprocess
import sys

from helpers import onednn


def test_x86_gets_onednn_unless_the_user_chose() -> None:
    environment: dict[str, str] = {}
    assert onednn.choose(environment, "x86_64") == "helpers"
    assert environment[onednn.VARIABLE] == "1"
    # A child process (a notebook's kernel) inherits the variable, and knows it was ours.
    assert onednn.choose(dict(environment), "x86_64") == "helpers"
    assert onednn.choose({onednn.VARIABLE: "0"}, "x86_64") == "user"
    assert onednn.choose({}, "arm64") is None


def test_a_user_setting_is_kept_and_reported() -> None:
    code = "from helpers import backend, onednn; print(onednn.state())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", onednn.VARIABLE: "0"}, check=True)
    assert "'enabled': False" in result.stdout and "'set_by': 'user'" in result.stdout
