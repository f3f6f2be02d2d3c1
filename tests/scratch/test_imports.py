import subprocess
import sys

# Modules Python itself or setuptools' editable install may load, which are not dependencies.
NOT_DEPENDENCIES = {"ferkit", "numpy", "__main__", "_distutils_hack"}

PROBE = """
import sys, ferkit.scratch
top = {m.split('.')[0] for m in sys.modules}
print(sorted(top - set(sys.stdlib_module_names) - NOT_DEPENDENCIES))
print(sorted(m for m in sys.modules if m.startswith('ferkit.') and not m.startswith('ferkit.scratch')))
"""


def test_scratch_imports_only_numpy():
    code = f"NOT_DEPENDENCIES = {NOT_DEPENDENCIES!r}\n{PROBE}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    third_party, other_ferkit = out.strip().splitlines()
    assert third_party == "[]"
    assert other_ferkit == "[]"  # not even the rest of ferkit
